"""HTML for the PR pages, the index and the ring pages.

Jinja2 with autoescaping on for every template; no ``|safe`` anywhere (the only ``Markup`` produced in
Python is the constant "missing" marker). A URL from PR or run data becomes an ``href`` only when it is
an absolute http(s) URL; anything else is shown as text. Pages load nothing from anywhere: the CSS is
inline, the history chart is inline SVG, and the Content-Security-Policy forbids scripts outright.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from . import paths
from .chart import build_chart
from .model import HistoryPoint, PRPage

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"
MISSING = Markup('<span class="missing">missing</span>')
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def http_url(value: Any) -> str | None:
    """``value`` if it is an absolute http(s) URL with a host and no whitespace or control characters."""
    if not isinstance(value, str) or not value or _CONTROL.search(value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return value


def show(value: Any, digits: int = 2) -> Any:
    """A figure as text: None is the visible word "missing", never 0 or a default."""
    if value is None:
        return MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        text = f"{value:.{digits}f}"
        return text.rstrip("0").rstrip(".") if "." in text else text
    return str(value)


def is_token(value: Any) -> bool:
    """A long unbroken string (digest, SHA, reference): shown as code that may wrap anywhere."""
    return isinstance(value, str) and len(value) > 24 and not any(ch.isspace() for ch in value)


_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$")


def is_timestamp(value: Any) -> bool:
    return isinstance(value, str) and bool(_ISO.match(value)) and _parse(value) is not None


def _parse(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def when(value: str) -> str:
    """An ISO 8601 time as "2026-11-23 23:33:49 UTC" (unparseable text is returned as it is)."""
    moment = _parse(value) if isinstance(value, str) else None
    if moment is None:
        return value
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def state_class(state: str | None) -> str:
    return "st-" + re.sub(r"[^a-z]+", "-", (state or "missing").lower()).strip("-")


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("aither_assets.dashboard", "templates"),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml", "svg", "html.j2", "svg.j2"),
                                     default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(http_url=http_url, show=show, when=when, state_class=state_class, slug=slug)
    env.tests["token"] = is_token
    env.tests["timestamp"] = is_timestamp
    env.globals.update(CSP=CSP, MISSING=MISSING, pr_path=paths.pr_path, ring_path=paths.ring_path,
                       build_chart=build_chart)
    return env


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def render_history_svg(points: list[HistoryPoint]) -> str:
    """The history chart alone, as an SVG fragment (inline in the PR page)."""
    return environment().get_template("chart.svg.j2").render(chart=build_chart(points))


def render_pr_page(page: PRPage) -> str:
    return environment().get_template("pr.html.j2").render(page=page, chart=build_chart(page.history), root="../")


def render_index(pages: list[PRPage], *, rings: list[str] | None = None, generated_at: str | None = None) -> str:
    """All PRs, newest number first, with state, ring, run status, tests and a link to each page.

    ``rings``: ring names whose pages are published next to the index (linked from it); default: the rings
    the PRs enter.
    """
    ordered = sorted(pages, key=lambda page: page.number, reverse=True)
    if rings is None:
        rings = sorted({page.ring for page in pages if page.ring})
    return environment().get_template("index.html.j2").render(pages=ordered, rings=rings,
                                                               generated_at=generated_at or _now(), root="")


RING_FIELDS = ("number", "title", "digest", "head_sha", "promoted_at", "promoted_by", "reason", "approvals", "evidence",
               "status")


def render_ring_page(ring: str, entries: list[dict], *, generated_at: str | None = None,
                     extras: dict | None = None) -> str:
    """Which PR and digest a ring runs, and the ring's earlier promotions.

    ``entries``: the ring's promotion records, newest first; each a dict with any of ``number, title, digest,
    head_sha, promoted_at, promoted_by, reason, status`` (absent = missing). The first is shown as what the
    ring runs now. No entries: "no promotion yet". ``extras`` (runs/policy_view.py ring_page_extras): the
    candidates with their soak left and the ring's delivery figures (None is shown as missing).
    """
    rows = [{name: entry.get(name) for name in RING_FIELDS} for entry in entries if isinstance(entry, dict)]
    for row in rows:
        number = row["number"]
        row["number"] = number if isinstance(number, int) and not isinstance(number, bool) else None
    extras = extras or {}
    candidates = [c for c in extras.get("candidates") or [] if isinstance(c, dict)]
    figures = extras.get("figures") if isinstance(extras.get("figures"), dict) else None
    return environment().get_template("ring.html.j2").render(ring=ring, rows=rows, candidates=candidates,
                                                              figures=figures, figures_days=extras.get("figures_days"),
                                                              generated_at=generated_at or _now(), root="../")


def render_site(pages: list[PRPage], ring_entries: dict[str, list[dict]] | None = None, *,
                generated_at: str | None = None) -> dict[str, str]:
    """Every file of the site by relative path: ``pr-<N>/index.html`` per page, ``index.html``, and
    ``rings/<ring>.html`` per ring in ``ring_entries`` (ring name -> its promotion records, newest first)."""
    generated_at = generated_at or _now()
    files = {paths.pr_path(page.number): render_pr_page(page) for page in pages}
    rings = ring_entries or {}
    files[paths.INDEX] = render_index(pages, rings=sorted(rings) if rings else None, generated_at=generated_at)
    for ring, entries in rings.items():
        files[paths.ring_path(ring)] = render_ring_page(ring, entries, generated_at=generated_at)
    return files
