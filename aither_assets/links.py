"""Where the reports point: the Dagster run, the asset pages, the PR dashboard. One place for the URL
formats: ``Links`` holds the operator's base URLs (the Dagster UI, where the pages are published);
``FeedbackLinks`` are the links of one run, as the GitHub feedback uses them.

Only http(s) URLs are ever used as link targets; anything else is dropped (for
``target_url``/``details_url``) or shown as escaped text (in the comment and on the pages).
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
class Links:
    """Base URLs (operator configuration, not PR data)."""

    dagster_ui: str | None = None  # e.g. http://127.0.0.1:3000
    pages_base: str | None = None  # where the pages are published, e.g. https://acme.github.io/app

    def run(self, run_id: str | None) -> str | None:
        if not self.dagster_ui or not run_id:
            return None
        return f"{self.dagster_ui.rstrip('/')}/runs/{urllib.parse.quote(str(run_id), safe='')}"

    def asset_template(self) -> str | None:
        """An asset's page with ``{asset}`` (its key path, quoted) and ``{partition}`` to fill in.

        Same format as the UI's own ``assetDetailsPathForKey``: ``/assets/<key path>?view=partitions&partition=<p>``.
        """
        if not self.dagster_ui:
            return None
        return self.dagster_ui.rstrip("/") + "/assets/{asset}?view=partitions&partition={partition}"

    def asset(self, asset_name: str, partition: str | int) -> str | None:
        """The asset's page in the Dagster UI, on its partitions tab with this PR's partition selected."""
        template = self.asset_template()
        return None if template is None else fill_asset_template(template, asset_name, partition)

    def pr_page(self, number: int) -> str | None:
        if not self.pages_base:
            return None
        return f"{self.pages_base.rstrip('/')}/pr-{int(number)}/"

    def for_run(self, entry: Mapping[str, Any]) -> "FeedbackLinks":
        """The links of one run's feedback: its run page, its asset pages, its PR's dashboard page."""
        return FeedbackLinks.for_dagster(self.dagster_ui, entry, dashboard=self.pr_page(entry["number"]))


def fill_asset_template(template: str, asset_name: str, partition: str | int) -> str:
    path = "/".join(urllib.parse.quote(part, safe="") for part in asset_name.split("/"))
    return template.format(asset=path, partition=urllib.parse.quote(str(partition), safe=""))


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
        base = Links(dagster_ui=dagster_url)
        if not is_http_url((dagster_url or "").rstrip("/")):
            return cls(dashboard=http_url_or_none(dashboard))
        return cls(run=base.run(entry.get("run_id")), dashboard=http_url_or_none(dashboard),
                   asset=base.asset_template())

    def run_url(self) -> str | None:
        return http_url_or_none(self.run)

    def dashboard_url(self) -> str | None:
        return http_url_or_none(self.dashboard)

    def asset_url(self, asset: str, partition: str | int) -> str | None:
        if not self.asset:
            return None
        try:
            url = fill_asset_template(self.asset, asset, partition)
        except (KeyError, IndexError, ValueError):
            return None
        return http_url_or_none(url)

    def stage_url(self, asset: str, partition: str | int) -> str | None:
        """Where a stage's status points: its asset page, else the run, else the dashboard."""
        return self.asset_url(asset, partition) or self.run_url() or self.dashboard_url()
