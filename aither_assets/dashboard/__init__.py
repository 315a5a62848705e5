"""The ``pr_dashboard`` pages: a static HTML page per PR, an index and one page per ring (no Dagster here).

- :mod:`.model`: ``page_from_summary(entry, history, links) -> PRPage`` (real figures only; None = missing)
- :mod:`.render`: ``render_pr_page``, ``render_index``, ``render_ring_page`` (autoescaped Jinja2, inline CSS/SVG)
- :mod:`.publish`: ``publish_local`` (atomic files) and ``publish_gh_pages`` (a commit pushed to gh-pages)
"""

from .model import Fact, FailingTest, HistoryPoint, Links, PRPage, StageCard, SuiteRow, history_point, page_from_summary
from .paths import pr_path, ring_path
from .publish import PublishError, publish_gh_pages, publish_local
from .render import render_history_svg, render_index, render_pr_page, render_ring_page, render_site

__all__ = ["FailingTest", "Fact", "HistoryPoint", "Links", "PRPage", "StageCard", "SuiteRow", "history_point",
           "page_from_summary", "pr_path", "ring_path", "render_history_svg", "render_index", "render_pr_page",
           "render_ring_page", "render_site", "publish_local", "publish_gh_pages", "PublishError"]
