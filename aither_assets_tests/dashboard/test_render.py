"""Rendered pages: the real figures, "missing"/"not run" where nothing ran, and nothing PR-controlled unescaped."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest

from aither_assets.dashboard import (
    Links,
    page_from_summary,
    render_index,
    render_pr_page,
    render_ring_page,
    render_site,
    ring_path,
)
from aither_assets.dashboard.render import CSP, http_url

from .conftest import GENERATED
from .helpers import Page, card_html, entry, facts

HOSTILE_TITLE = "<script>alert(1)</script><img src=x onerror=alert(1)>"
JS_URL = "javascript:alert(document.domain)"


def render(number: int, links: Links, history: list | None = None, **changes) -> str:
    pr = entry(number)
    pr.update(changes)
    return render_pr_page(page_from_summary(pr, history or [], links, generated_at=GENERATED))


def test_pr_page_shows_the_real_counts(links):
    html = render(1, links)
    unit = facts(html, "stage-unit-tests")
    assert (unit["tests"], unit["passed"], unit["failed"], unit["errors"], unit["duration (s)"]) == (
        "69", "69", "0", "0", "5.21")
    assert facts(html, "stage-domain-tests")["passed"] == "42"
    assert facts(html, "stage-integration-tests")["passed"] == "9"
    assert facts(html, "stage-smoke")["passed"] == "3"
    assert facts(html, "stage-build")["files packaged"] == "11"
    suites = Page(card_html(html, "stage-unit-tests")).text()
    assert "0000-0099 passed 37 37 0 0 0 1.71 0100-0199 passed 18 18 0 0 0 1.78 0200-0299 passed 14 14" in suites
    assert "coverage: missing" in suites  # no suite measured coverage
    page = Page(html)
    assert 'data-state="passed"' in card_html(html, "stage-unit-tests")
    assert "PR #1: Paginate the items API" in html
    assert "http://127.0.0.1:3000/runs/11562169-27b9-45a0-9970-a6c30524899c" in page.hrefs()
    assert "http://127.0.0.1:3000/assets/unit_tests?view=partitions&partition=1" in page.hrefs()
    assert "http://127.0.0.1:20913" in page.hrefs()  # the preview
    assert "health" not in page.text().lower()  # no invented health score, anywhere


def test_failing_test_is_on_the_page(links):
    html = render(5, links)
    card = Page(card_html(html, "stage-unit-tests")).text()
    assert "tests/unit/0105_test_handlers.py::test_wrong_method_is_405_with_allow_header" in card
    assert "assert 404 == 405" in card
    assert facts(html, "stage-unit-tests")["passed"] == "68"
    assert facts(html, "stage-unit-tests")["failed"] == "1"
    assert 'data-state="failed"' in card_html(html, "stage-unit-tests")
    assert Page(card_html(html, "stage-smoke")).text().startswith("smoke not run")


@pytest.mark.parametrize("number", [8, 9])
def test_pr_without_a_run_invents_no_number(links, number):
    """Every number a person can read on a no-run page is one that is in its input."""
    pr = entry(number)
    html = render_pr_page(page_from_summary(pr, [], links, generated_at=GENERATED))
    source = json.dumps(pr)
    page = Page(html)
    main = page.text("main")
    for card_id in [f"stage-{name}" for name in ("validation", "build", "quality", "unit-tests", "domain-tests",
                                                 "integration-tests", "image", "environment", "smoke")]:
        text = Page(card_html(html, card_id)).text()
        assert "not run" in text
        assert not re.findall(r"\d+", text.replace(f"partition={number}", "")), text
        assert "<dd>" not in card_html(html, card_id)  # no figures at all
    for number_seen in re.findall(r"\d+(?:\.\d+)?", main):
        assert number_seen in source, f"{number_seen!r} is on the page but not in the input"
    assert main.count("missing") >= 5  # author, iteration, tests passed/failed, last activity
    assert "No run for this head." in main


def test_missing_figure_renders_as_missing_never_zero(links):
    pr = entry(1)
    for key in ("passed", "failed"):
        del pr["assets"]["unit_tests"]["metadata"][key]
    del pr["assets"]["smoke_report"]["metadata"]["failed"]
    html = render_pr_page(page_from_summary(pr, [], links))
    unit = facts(html, "stage-unit-tests")
    assert unit["passed"] == "missing" and unit["failed"] == "missing" and unit["tests"] == "69"
    assert facts(html, "stage-smoke")["failed"] == "missing"
    assert '<dd><span class="missing">missing</span></dd>' in card_html(html, "stage-unit-tests")
    assert "tests passed missing tests failed missing" in Page(html).text()


def test_pr_controlled_text_is_escaped_and_bad_urls_are_not_links(links):
    pr = entry(1)
    pr["title"] = HOSTILE_TITLE
    context = pr["assets"]["pr_context"]["metadata"]
    context["author"] = '"><svg onload=alert(1)>'
    context["pr_url"] = JS_URL
    pr["assets"]["pr_environment"]["metadata"]["url"] = " JaVaScRiPt:alert(1)"
    pr["assets"]["unit_tests"]["metadata"]["suite_json"][0]["name"] = "<b onmouseover=alert(1)>suite</b>"
    pr["assets"]["unit_tests"]["metadata"]["suite_json"][0]["failures"] = [
        {"test": "</pre><script>alert(2)</script>", "message": "<iframe src=javascript:alert(3)>"}]
    pr["failures"] = ["<style>body{display:none}</style>"]
    pr["run_id"] = '"><script>alert(4)</script>'
    pr["ring"] = "../../<x>"
    html = render_pr_page(page_from_summary(pr, [], links))
    lowered = html.lower()
    for raw in ("<script", "<img", "<svg onload", "<b ", "<iframe", "<style>body"):
        assert raw not in lowered, raw
    assert not re.search(r"href\s*=\s*[\"']?\s*javascript:", html, re.I)
    page = Page(html)
    assert page.count("script") == 0 and page.count("img") == 0 and page.count("iframe") == 0
    assert page.count("style") == 1  # ours, in <head>
    assert HOSTILE_TITLE in page.text()  # shown, as text
    assert JS_URL in page.text()  # the bad URL is shown as text, not as a link
    for href in page.hrefs():
        parts = urlsplit(href)
        assert parts.scheme in ("http", "https") or (not parts.scheme and not parts.netloc), href
    assert "../rings/x-" in html and "/../../" not in html  # ring name sanitized in the link
    run_links = [h for h in page.hrefs() if "/runs/" in h]
    assert run_links == ["http://127.0.0.1:3000/runs/%22%3E%3Cscript%3Ealert%284%29%3C%2Fscript%3E"]


def test_http_url_only_accepts_absolute_http_urls():
    assert http_url("https://example.com/x?y=1") == "https://example.com/x?y=1"
    assert http_url("HTTP://127.0.0.1:8080") == "HTTP://127.0.0.1:8080"
    for bad in ("javascript:alert(1)", " https://x", "data:text/html,x", "//evil.com", "/relative", "https://",
                "https://ex ample.com", "java\nscript:alert(1)", "vbscript:x", None, 42, ""):
        assert http_url(bad) is None, bad


def test_page_loads_nothing_from_anywhere(links):
    html = render(7, links)
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP.replace(chr(39), "&#39;")}">' in html
    assert CSP.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    page = Page(html)
    for tag, attrs in page.tags:
        assert "src" not in attrs, (tag, attrs)
        assert not (tag == "link"), attrs
    assert "@import" not in html and "url(" not in html
    assert "<svg" in html  # the chart is inline


def test_index_lists_every_pr_with_state_ring_run_and_tests(links, demo):
    pages = [page_from_summary(pr, [], links) for pr in demo["prs"]]
    html = render_index(pages, generated_at=GENERATED)
    page = Page(html)
    rows = re.findall(r"<tr>\s*<th scope=\"row\">.*?</tr>", html, re.S)
    assert len(rows) == 10
    texts = {int(re.match(r"#(\d+)", Page(row).text()).group(1)): Page(row).text() for row in rows}
    assert list(texts) == list(range(10, 0, -1))
    assert "passed success dev 120 0 http://127.0.0.1:20913" in texts[1]
    assert "failed failure dev 119 1 none" in texts[5]
    assert "passed success production skipped skipped none missing" in texts[4]
    assert "not run no run dev — — none —" in texts[8] and "draft PR" in texts[8]
    assert "pr-5/index.html" in page.hrefs() and "rings/ring-0.html" in page.hrefs()
    assert "<script" not in html.lower() and "&lt;script&gt;" in html


def test_ring_page_says_who_is_there_or_no_promotion_yet():
    empty = Page(render_ring_page("staging", [], generated_at=GENERATED)).text("main")
    assert "No promotion yet" in empty
    records = [{"number": 2, "title": "<i>v2</i>", "digest": "sha256:" + "d" * 64, "promoted_at": "2026-11-24T07:00:00Z",
                "promoted_by": "maintainer", "reason": "soak passed"},
               {"number": 1, "digest": None, "status": "rolled back"}]
    html = render_ring_page("staging", records, generated_at=GENERATED)
    text = Page(html).text("main")
    assert "Running now" in text and "#2 <i>v2</i>" in text and "sha256:" + "d" * 64 in text
    assert "2026-11-24 07:00:00 UTC" in text and "maintainer" in text
    assert "<i>" not in html and "../pr-2/index.html" in Page(html).hrefs()
    assert "missing" in text  # the second record has no digest, no time, no author
    assert "No promotion yet" not in text


def test_ring_names_become_safe_file_names():
    assert ring_path("ring-0") == "rings/ring-0.html"
    assert ring_path("production") == "rings/production.html"
    hostile = ring_path("../../etc/passwd")
    assert hostile.startswith("rings/") and hostile.count("/") == 1 and ".." not in hostile


def test_render_site_has_every_path(links, demo):
    pages = [page_from_summary(pr, [], links) for pr in demo["prs"]]
    files = render_site(pages, {"staging": [], "dev": [{"number": 1, "digest": "sha256:" + "a" * 64}]},
                        generated_at=GENERATED)
    assert set(files) == {f"pr-{n}/index.html" for n in range(1, 11)} | {"index.html", "rings/dev.html",
                                                                            "rings/staging.html"}


def test_history_chart_is_on_the_page_only_when_there_are_figures(links):
    earlier = [{"sha": "e" * 40, "iteration": None, "at": None, "tests_passed": None, "tests_failed": None,
                "duration_seconds": 3.5, "run_status": "FAILURE"}]
    html = render(5, links, history=earlier)
    assert html.count("<svg") == 1 and "missing: passed, failed" in html
    history = re.search(r'<table class="history">.*?</table>', html, re.S).group(0)
    assert Page(history).text().split("eeeeeeeeeeee")[1].split()[:6] == ["missing", "missing", "failure", "missing",
                                                                            "missing", "3.5"]
    docs_only = render(4, links)  # its suites were skipped: no figures, no chart, the table says missing
    assert "<svg" not in docs_only and "nothing to chart" in docs_only


def test_ring_page_with_only_refused_attempts_runs_nothing_and_shows_approvals_and_evidence():
    records = [{"number": 3, "digest": "sha256:" + "e" * 64, "promoted_by": "alice", "reason": "<b>canary</b>",
                "approvals": "none", "evidence": "run abcd1234: 5 of 5 checks passed", "status": "refused"}]
    html = render_ring_page("ring-0", records, generated_at=GENERATED)
    text = Page(html).text("main")
    assert "Running now" not in text and "Nothing is running in ring-0" in text
    assert "refused" in text and "5 of 5 checks passed" in text and "<b>" not in html


def test_pr_page_shows_its_ladder(links, demo):
    entry = {**demo["prs"][0], "promotion": [
        {"ring": "dev", "state": "live since 2026-12-05T08:00:00+00:00",
         "last": {"outcome": "promoted", "requester": "maintainer", "first_unmet": None}},
        {"ring": "ring-0", "state": "not promoted",
         "last": {"outcome": "refused", "requester": "alice", "first_unmet": "approvals: <b>0 of 1</b>"}}]}
    html = render_pr_page(page_from_summary(entry, [], links))
    text = Page(html).text("main")
    assert "Promotion" in text and "live since" in text and "refused alice approvals: <b>0 of 1</b>" in text
    assert "<b>0" not in html and "../rings/ring-0.html" in Page(html).hrefs()
    assert "Promotion" not in Page(render_pr_page(page_from_summary(demo["prs"][0], [], links))).text("main")
