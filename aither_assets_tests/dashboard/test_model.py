"""The page model holds only recorded figures: None where nothing was recorded, never 0 or a default."""

from __future__ import annotations

from aither_assets.dashboard import HistoryPoint, Links, page_from_summary
from aither_assets.dashboard.model import history_point

from .conftest import GENERATED
from .helpers import entry

CARD_NAMES = ["validation", "build", "quality", "unit tests", "domain tests", "integration tests", "image",
              "environment", "smoke"]


def test_passing_pr_has_its_real_counts(links):
    page = page_from_summary(entry(1), [], links, generated_at=GENERATED)
    assert [card.name for card in page.cards] == CARD_NAMES
    unit = page.card("unit tests")
    assert unit.state == "passed"
    assert (unit.fact("tests"), unit.fact("passed"), unit.fact("failed"), unit.fact("errors")) == (69, 69, 0, 0)
    assert unit.fact("duration (s)") == 5.21
    assert [(s.name, s.tests, s.passed) for s in unit.suites] == [("0000-0099", 37, 37), ("0100-0199", 18, 18),
                                                                  ("0200-0299", 14, 14)]
    assert page.card("domain tests").fact("passed") == 42 and page.card("integration tests").fact("passed") == 9
    assert (page.tests_passed, page.tests_failed) == (69 + 42 + 9, 0)
    assert page.card("smoke").fact("passed") == 3
    assert page.card("environment").fact("URL") == "http://127.0.0.1:20913"
    assert page.environment_url == "http://127.0.0.1:20913"
    assert page.image_digest.startswith("sha256:c33ae0bd")
    assert page.author == "alice" and page.ring == "dev" and page.base_ref == "dev"
    assert page.head_ref == "feature/items-pagination"
    assert page.state == "passed" and page.iteration == 1
    assert page.updated_at == "2026-11-23T23:33:06+00:00"  # the deploy, later than the build
    assert page.generated_at == GENERATED


def test_dagster_links_use_the_ui_url_formats(links):
    page = page_from_summary(entry(1), [], links)
    assert page.run_link == "http://127.0.0.1:3000/runs/11562169-27b9-45a0-9970-a6c30524899c"
    assert page.card("unit tests").link == "http://127.0.0.1:3000/assets/unit_tests?view=partitions&partition=1"
    assert page.page_url == "https://acme.github.io/sample-app/pr-1/"
    bare = page_from_summary(entry(1), [], Links())
    assert bare.run_link is None and bare.card("build").link is None and bare.page_url is None
    assert Links("http://ui/").run("a/b?c") == "http://ui/runs/a%2Fb%3Fc"


def test_failing_test_is_named_with_its_suite_and_message(links):
    page = page_from_summary(entry(5), [], links)
    unit = page.card("unit tests")
    assert unit.state == "failed"
    assert unit.fact("passed") == 68 and unit.fact("failed") == 1
    assert [(t.suite, t.test) for t in unit.failing_tests] == [
        ("0100-0199", "tests/unit/0105_test_handlers.py::test_wrong_method_is_405_with_allow_header")]
    assert unit.failing_tests[0].message.startswith("assert 404 == 405")
    assert "0105_test_handlers" in unit.reason
    # The run failed at the tests: later stages were planned but never produced.
    for name in ("image", "environment", "smoke"):
        card = page.card(name)
        assert (card.state, card.facts) == ("not run", [])
        assert "failed" in card.reason
    assert page.state == "failed" and page.environment_url is None and page.image_digest is None
    assert page.failures and "unit_tests: all_tests_passed" in page.failures[0]


def test_validation_errors_come_from_the_check_as_plain_text(links):
    page = page_from_summary(entry(6), [], links)
    validation = page.card("validation")
    assert validation.state == "failed" and validation.fact("errors") == 4
    assert len(validation.notes) == 4 and any("needs-missing-job" in note for note in validation.notes)
    # Not in this head's plan (workflow-only change): skipped, not "not run", and no figures.
    assert page.card("image").state == "skipped" and page.card("image").reason == "not in this head's plan"


def test_docs_only_pr_skips_with_the_recorded_reason(links):
    page = page_from_summary(entry(4), [], links)
    assert page.card("validation").state == "passed"
    for name in ("build", "unit tests", "domain tests", "integration tests"):
        assert (page.card(name).state, page.card(name).reason) == ("skipped", "docs-only change")
    assert page.card("quality").reason == "no source, test or config change"
    assert page.tests_skipped and page.tests_passed is None and page.tests_failed is None
    assert page.iteration is None and page.updated_at is None  # nothing recorded a time: missing, not "now"


def test_draft_pr_without_a_run_has_no_figures_at_all(links):
    page = page_from_summary(entry(8), [], links, generated_at=GENERATED)
    assert page.state == "not run" and page.run_status is None and page.run_link is None
    assert {card.state for card in page.cards} == {"not run"}
    assert all(card.facts == [] and card.reason.startswith("draft PR") for card in page.cards)
    for value in (page.author, page.iteration, page.tests_passed, page.tests_failed, page.updated_at,
                  page.environment_url, page.image_digest, page.fork, page.url):
        assert value is None
    assert page.history == []


def test_a_figure_the_run_did_not_record_is_none_not_zero(links):
    pr = entry(1)
    unit = pr["assets"]["unit_tests"]["metadata"]
    for key in ("passed", "errors", "duration_seconds", "uncovered_count"):
        del unit[key]
    unit["suite_json"][0].pop("passed")
    del pr["checks"]["unit_tests:all_tests_passed"]
    del pr["assets"]["container_image"]["metadata"]["push_seconds"]
    page = page_from_summary(pr, [], links)
    card = page.card("unit tests")
    assert card.fact("passed") is None and card.fact("errors") is None and card.fact("duration (s)") is None
    assert card.fact("tests in no suite") is None and card.suites[0].passed is None
    assert card.state == "missing"  # no check result and no error count: no verdict either
    assert page.tests_passed is None and page.tests_failed is None
    assert page.card("image").fact("push (s)") is None and page.card("image").fact("build (s)") == 3.91


def test_stage_states_follow_status_checks_and_plan(links):
    pr = entry(1)
    pr["run_status"] = "STARTED"
    pr["assets"]["smoke_report"] = {"status": "NOT_MATERIALIZED", "metadata": {}}
    del pr["assets"]["pr_environment"]
    pr["checks"]["domain_tests:all_tests_passed"] = "FAILED"
    pr["assets"]["build_artifacts"]["metadata"]["head_sha"] = "0" * 40
    page = page_from_summary(pr, [], links)
    assert (page.card("smoke").state, page.card("smoke").reason) == ("not run", "the run is still going")
    assert page.card("environment").state == "not run"
    assert page.card("domain tests").state == "failed"
    assert "not the current head" in page.card("build").notes[0]
    assert page.state == "failed"
    del pr["checks"]["domain_tests:all_tests_passed"]
    pr["run_status"] = "SUCCESS"
    page = page_from_summary(pr, [], links)
    assert page.card("environment").state == "missing"  # a finished run that recorded nothing for it
    assert page.state == "passed"


def test_history_keeps_gaps_and_ends_with_this_head(links):
    pr = entry(5)
    earlier = [
        {"sha": "a" * 40, "iteration": None, "at": None, "tests_passed": 100, "tests_failed": None,
         "duration_seconds": 9.5, "run_status": "FAILURE"},
        {"sha": pr["head_sha"], "iteration": 9, "tests_passed": 1},  # the current head again: replaced
    ]
    page = page_from_summary(pr, earlier, links)
    assert page.history == [
        HistoryPoint("a" * 40, None, None, 100, None, 9.5, "FAILURE"),
        # 68 + 42 + 9 passed; 5.61 + 5.46 + 2.06 s of suites; the build's own timestamp
        HistoryPoint(pr["head_sha"], 1, "2026-11-23T23:33:20+00:00", 119, 1, 13.13, "FAILURE", current=True),
    ]
    current = page.history[-1]
    assert current == HistoryPoint.from_dict(history_point(pr), current=True)
