"""Where the feedback points: the Dagster run, the asset pages, the PR dashboard.

Only http(s) URLs are ever used as link targets; anything else is dropped (for
``target_url``/``details_url``) or shown as escaped text (in the comment).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any, Mapping

# Characters left as they are in a link target; everything else (spaces, <, >, ", `, control
# characters, non-ASCII) is percent-encoded so the URL cannot end a Markdown link early.
_URL_SAFE = "/:?#[]@!$&'()*+,;=%-._~"


def is_http_url(url: Any) -> bool:
    """True for an absolute http(s) URL with a host and no whitespace or control characters."""
    if not isinstance(url, str) or not url or len(url) > 2000:
        return False
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return False
    try:
        parsed = urllib.parse.urlsplit(url)
    except ValueError:
        return False
    return parsed.scheme.lower() in ("http", "https") and bool(parsed.netloc)


def http_url_or_none(url: Any) -> str | None:
    return url if is_http_url(url) else None


def link_target(url: str) -> str:
    """``url`` made safe to put between ``<`` and ``>`` in a Markdown link destination."""
    return urllib.parse.quote(url, safe=_URL_SAFE)


@dataclass(frozen=True)
class FeedbackLinks:
    """URLs the feedback links to; any of them may be missing.

    ``asset`` is a template for one asset's page of this PR, with ``{asset}`` and
    ``{partition}`` placeholders (see :meth:`for_dagster`).
    """

    run: str | None = None
    dashboard: str | None = None
    asset: str | None = None

    @classmethod
    def of(cls, links: "FeedbackLinks | Mapping[str, Any] | None") -> "FeedbackLinks":
        """Accept a FeedbackLinks, a plain mapping with the same keys, or None."""
        if links is None:
            return cls()
        if isinstance(links, FeedbackLinks):
            return links
        return cls(run=links.get("run"), dashboard=links.get("dashboard"), asset=links.get("asset"))

    @classmethod
    def for_dagster(cls, dagster_url: str | None, entry: Mapping[str, Any],
                    dashboard: str | None = None) -> "FeedbackLinks":
        """Links into a Dagster webserver at ``dagster_url`` for one PR summary entry."""
        base = (dagster_url or "").rstrip("/")
        if not is_http_url(base):
            return cls(dashboard=http_url_or_none(dashboard))
        run_id = entry.get("run_id")
        run = f"{base}/runs/{urllib.parse.quote(str(run_id), safe='')}" if run_id else None
        return cls(run=run, dashboard=http_url_or_none(dashboard),
                   asset=base + "/assets/{asset}?view=partitions&partition={partition}")

    def run_url(self) -> str | None:
        return http_url_or_none(self.run)

    def dashboard_url(self) -> str | None:
        return http_url_or_none(self.dashboard)

    def asset_url(self, asset: str, partition: str | int) -> str | None:
        if not self.asset:
            return None
        try:
            url = self.asset.format(asset=urllib.parse.quote(asset, safe=""),
                                    partition=urllib.parse.quote(str(partition), safe=""))
        except (KeyError, IndexError, ValueError):
            return None
        return http_url_or_none(url)

    def stage_url(self, asset: str, partition: str | int) -> str | None:
        """Where a stage's status points: its asset page, else the run, else the dashboard."""
        return self.asset_url(asset, partition) or self.run_url() or self.dashboard_url()
