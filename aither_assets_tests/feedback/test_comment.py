"""The sticky comment: real figures, escaped PR text, http(s)-only links, bounded size."""

from __future__ import annotations

import re

import pytest

from aither_assets.feedback import MARKER, FeedbackLinks, render_comment
from aither_assets.feedback.comment import GITHUB_COMMENT_LIMIT

from .conftest import DOCS_ONLY_PR, DRAFT_PR, FAILING_TEST_PR, HOSTILE_PR, SUCCESS_PR

HOSTILE = "<script>alert(1)</script> | **bold** `id` [x](javascript:alert(1)) ![i](javascript:x) <img src=x onerror=y>"
ALLOWED_TAGS = {"table", "thead", "tbody", "tr", "th", "td", "p", "strong", "a", "ul", "li", "h3", "h4", "code",
                "hr", "sub"}


def links_for(entry) -> FeedbackLinks:
    return FeedbackLinks.for_dagster("http://dagster.local:3000", entry,
                                     dashboard=f"http://pages.local/pr-{entry['number']}/")


def rendered_html(body: str) -> str:
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(body)


def assert_safe(body: str) -> None:
    """No raw HTML from the PR and every link an http(s) link, in the Markdown and once rendered."""
    assert "<script" not in body.lower() and "<img" not in body.lower()
    assert not re.search(r"\]\(\s*<?\s*javascript", body, re.I)
    html = rendered_html(body)
    assert {tag.lower() for tag in re.findall(r"</?([a-zA-Z][a-zA-Z0-9]*)", html)} <= ALLOWED_TAGS
    hrefs = re.findall(r'href="([^"]*)"', html)
    assert hrefs and all(h.startswith(("http://", "https://")) for h in hrefs), hrefs


def test_failing_pr_comment_shows_the_failure_and_what_did_not_run(entry) -> None:
    e = entry(FAILING_TEST_PR)
    body = render_comment(e, links_for(e))
    assert body.startswith(MARKER + "\n")
    assert "### ❌ aither · PR #5 · `bc311adb`" in body
    assert "**Refactor handlers \\(breaks a test\\)**" in body
    assert "Dagster run: [FAILURE](<http://dagster.local:3000/runs/5049fb4b-cf96-4e1a-bb78-671452d7b9ab>)" in body
    assert "| ❌ | [unit tests](<http://dagster.local:3000/assets/unit_tests?view=partitions&partition=5>) | failure | " \
           "68 passed, 1 failed \\(69 tests, 3 suites, 5\\.6 s\\) |" in body
    assert "| 0100\\-0199 | unit | ❌ failed | 18 | 17 | 1 | 0 | 0 | 1.9 s |" in body
    assert "**1 failing test**" in body
    assert "tests/unit/0105\\_test\\_handlers\\.py::test\\_wrong\\_method\\_is\\_405\\_with\\_allow\\_header: " \
           "assert 404 == 405" in body
    image = body.split("#### Image", 1)[1].split("####", 1)[0]
    assert "not run: an earlier stage failed" in image and "sha256:" not in image
    assert "[dashboard](<http://pages.local/pr-5/>)" in body
    assert_safe(body)


def test_successful_pr_comment_shows_image_environment_and_smoke(entry) -> None:
    e = entry(SUCCESS_PR)
    body = render_comment(e, links_for(e))
    assert "### ✅ aither · PR #1" in body
    assert "- digest: `sha256:c33ae0bd8a2291d9f27f679473c05060498698fea1c63748d2e069f5232912f6`" in body
    assert "`pr-1-dev-v1`, `pr-1-dev-latest`, `pr-1-latest`, `pr-1-c89330c0`, `dev-pr-1-latest`" in body
    assert "- URL: [http://127\\.0\\.0\\.1:20913](<http://127.0.0.1:20913>)" in body
    assert "3/3 checks passed, 0 failed" in body
    assert "branch feature/items\\-pagination" in body and "ring **dev**" in body
    assert_safe(body)


def test_docs_only_and_not_run_prs_say_skipped_or_not_run_never_zero(entry) -> None:
    docs = render_comment(entry(DOCS_ONLY_PR))
    assert "| ⏭️ | unit tests | skipped | docs\\-only change |" in docs
    assert "0 passed" not in docs and "digest" not in docs
    draft = render_comment(entry(DRAFT_PR))
    assert "Dagster run: not run: draft PR" in draft
    assert "### ⏳" in draft and "0 passed" not in draft
    # No links known: nothing is linked, nothing is invented.
    assert "](" not in docs.replace("](<http", "")


def test_missing_metadata_says_missing(entry) -> None:
    e = entry(SUCCESS_PR)
    e["assets"]["container_image"]["metadata"].pop("tags")
    e["assets"]["unit_tests"]["metadata"]["suite_json"][0]["report"] = None
    body = render_comment(e)
    assert "- tags: missing" in body
    assert "| 0000\\-0099 | unit | ✅ passed | missing | missing | missing | missing | missing | 1.7 s |" in body


def test_hostile_pr_strings_are_escaped(entry) -> None:
    e = entry(SUCCESS_PR)
    e["title"] = HOSTILE
    e["assets"]["build_artifacts"]["metadata"]["build_metadata"]["pr"]["head_ref"] = "feature/" + HOSTILE
    suite = e["assets"]["unit_tests"]["metadata"]["suite_json"][1]
    suite["name"] = HOSTILE
    suite["status"] = "failed"
    suite["failures"] = [{"test": f"tests/test_x.py::{HOSTILE}", "message": HOSTILE + "\nline two | cell"}]
    e["assets"]["pr_environment"]["metadata"]["url"] = "javascript:alert(document.cookie)"
    e["assets"]["smoke_report"]["metadata"]["url"] = "javascript:alert(2)"
    e["check_details"]["smoke_report:smoke_passed"]["failures"] = [f"/{HOSTILE}: 500"]
    e["check_details"]["validation_report:no_error_findings"]["errors"] = [f"ci.yml:1 {HOSTILE}"]
    e["assets"]["container_image"]["metadata"]["tags"] = ["ok-tag", "bad`tag<script>"]
    e["run_id"] = HOSTILE
    body = render_comment(e, FeedbackLinks(run="javascript:alert(1)", dashboard="https://pages.example/pr-1/",
                                           asset="javascript:{asset}"))
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt; \\| \\*\\*bold\\*\\* \\`id\\` \\[x\\]\\(javascript:alert\\(1\\)\\)" \
           in body
    assert "`ok-tag`, bad\\`tag&lt;script&gt;" in body
    assert "- URL: javascript:alert\\(document\\.cookie\\)" in body
    assert "Dagster run: SUCCESS" in body  # the run link was not http(s): text only
    # A table row stays one row: the hostile suite name cannot add cells.
    row = next(line for line in body.splitlines() if line.startswith("| &lt;script"))
    assert len(re.findall(r"(?<!\\)\|", row)) == 10
    assert_safe(body)


def test_the_fixtures_hostile_pr(entry) -> None:
    e = entry(HOSTILE_PR)
    body = render_comment(e, links_for(e))
    assert "\\[link\\]\\(javascript:alert\\(1\\)\\)" in body
    assert_safe(body)


def test_long_lists_are_cut_and_the_body_fits_githubs_limit(entry) -> None:
    e = entry(FAILING_TEST_PR)
    suite = e["assets"]["unit_tests"]["metadata"]["suite_json"][1]
    suite["failures"] = [{"test": f"tests/unit/test_{i}.py::" + "x" * 500, "message": "boom " * 200}
                         for i in range(5000)]
    e["assets"]["unit_tests"]["metadata"]["suite_json"] += [dict(suite, name=f"suite-{i}") for i in range(100)]
    body = render_comment(e, links_for(e))
    assert len(body) < GITHUB_COMMENT_LIMIT
    assert "… and 504980 more failing tests" in body
    assert "… and 67 more suites (see the dashboard)" in body
    assert body.rstrip().endswith("</sub>")
    # Even a body that has to be cut keeps its marker, whole lines, and says where the rest is.
    cut = render_comment(e, links_for(e), limit=3000)
    assert cut.startswith(MARKER) and len(cut) <= 3000
    assert "comment cut to fit GitHub's size limit" in cut and "[dashboard](<http://pages.local/pr-5/>)" in cut
    assert_safe(cut)


def test_deployment_is_shown_under_the_environment(entry) -> None:
    e = entry(SUCCESS_PR)
    body = render_comment(e, deployment={"id": 17, "environment": "pr-1", "state": "success"})
    environment = body.split("#### Environment", 1)[1].split("####", 1)[0]
    assert "- GitHub deployment pr\\-1 #17 success" in environment


def test_promotion_section_lists_the_ladder_escaped():
    from aither_assets.feedback.comment import render_comment

    entry = {"number": 4, "head_sha": "a" * 40, "run_id": "r1", "run_status": "SUCCESS", "assets": {}, "checks": {},
             "promotion": [{"ring": "dev", "state": "live since 2026-12-05T08:00:00+00:00",
                            "last": {"outcome": "promoted", "requester": "maintainer", "first_unmet": None}},
                           {"ring": "ring-0", "state": "not promoted",
                            "last": {"outcome": "refused", "requester": "alice",
                                     "first_unmet": "approvals: 0 of 1 <b>x</b> | y"}}]}
    body = render_comment(entry)
    assert "#### Promotion" in body and "| dev | live since 2026" in body and "| promoted by maintainer |" in body
    assert "refused by alice: approvals: 0 of 1" in body and "<b>" not in body
    assert "#### Promotion" not in render_comment({**entry, "promotion": []})


def test_promotion_section_shows_holds_escaped():
    from aither_assets.feedback.comment import render_comment

    entry = {"number": 4, "head_sha": "a" * 40, "run_id": "r1", "run_status": "SUCCESS", "assets": {}, "checks": {},
             "promotion": [{"ring": "dev", "state": "not promoted", "last": None}],
             "promotion_holds": ["PR #4 (every build) held since 2026-12-05T08:00:00+00:00 by maintainer: "
                                 "<img src=x onerror=alert(1)> | [x](javascript:1)"]}
    body = render_comment(entry)
    assert "- **Held**: PR \\#4 \\(every build\\) held since 2026\\-12\\-05" in body and "by maintainer" in body
    assert "<img" not in body and "](javascript" not in body and "/unhold" in body
