"""HTML and JSON views. Every value that reaches HTML goes through :func:`html.escape`."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from app import APP_NAME, __version__
from app.config import Settings
from app.items import Item

#: The page's only style; the CSP allows exactly this text by hash (see app.security).
STYLE = (
    "body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:42rem;color:#1f2328}"
    "dt{font-weight:600}dd{margin:0 0 .5rem 0;font-family:monospace}"
    "em{color:#59636e}"
)


def _field(value: str) -> str:
    return escape(value, quote=True) if value else "<em>not set</em>"


def render_index(settings: Settings, items: Iterable[Item] = ()) -> str:
    """The landing page: which pull request this deployment runs, and the stored items."""
    rows = "".join(f"<li>{escape(item.name, quote=True)} &times; {item.quantity}</li>" for item in items)
    title = f"{APP_NAME} PR #{settings.pr_number}" if settings.pr_number else APP_NAME
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        f"<title>{escape(title, quote=True)}</title>\n"
        f"<style>{STYLE}</style>\n"
        "</head>\n"
        "<body>\n"
        f"<h1>{escape(APP_NAME)} <small>v{escape(__version__)}</small></h1>\n"
        "<dl>\n"
        f'<dt>Pull request</dt><dd id="pr-number">{_field(settings.pr_number)}</dd>\n'
        f'<dt>Title</dt><dd id="pr-title">{_field(settings.pr_title)}</dd>\n'
        f'<dt>Commit</dt><dd id="commit-sha">{_field(settings.commit_sha)}</dd>\n'
        f'<dt>Base branch</dt><dd id="base-ref">{_field(settings.base_ref)}</dd>\n'
        f'<dt>Environment</dt><dd id="app-env">{_field(settings.app_env)}</dd>\n'
        "</dl>\n"
        f'<h2>Items</h2>\n<ul id="items">{rows or "<li><em>none yet</em></li>"}</ul>\n'
        "</body>\n"
        "</html>\n"
    )


def version_payload(settings: Settings) -> dict[str, object]:
    """``/api/version``: what is deployed. Unset metadata is ``null``, never a made-up default."""
    return {
        "app": APP_NAME,
        "version": __version__,
        "environment": settings.app_env,
        "pr_number": settings.pr_number or None,
        "commit_sha": settings.commit_sha or None,
        "base_ref": settings.base_ref or None,
    }
