"""What a PR page shows, taken only from recorded data.

``page_from_summary`` turns one PR entry of the product's summary (the shape of
``aither_assets_tests/fixtures/demo_summary.json``) into a :class:`PRPage`.
Nothing here invents a figure: a number the run did not record is ``None`` and
the page says "missing"; a stage that did not run says so and why. There is no
health score.

Markdown strings in asset metadata (already escaped for Markdown) are never
used; the page is built from the structured fields (counts, ``suite_json``,
check details).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Literal, NamedTuple

from aither_assets import stages
from aither_assets.links import Links
from aither_assets.reporting.values import json_int
from aither_assets.results import AssetRecord, RunSummary, StageResult
from aither_assets.stages import Meta, StageAsset

State = Literal["passed", "failed", "skipped", "not run", "missing"]
Value = int | float | str | None

# A message longer than this is cut (the full text stays in the Dagster UI).
MAX_MESSAGE = 2000


class Fact(NamedTuple):
    """One labelled figure; ``value`` None renders as "missing". ``href`` is checked again when rendered."""

    label: str
    value: Value
    href: str | None = None


@dataclass(frozen=True)
class SuiteRow:
    name: str | None
    status: str | None
    tests: int | None
    passed: int | None
    failed: int | None
    errors: int | None
    skipped: int | None
    duration_seconds: float | None
    coverage_percent: float | None
    message: str | None


@dataclass(frozen=True)
class FailingTest:
    suite: str | None
    test: str
    message: str | None


@dataclass(frozen=True)
class StageCard:
    name: str  # "validation", "build", ..., "unit tests", ...
    asset: str  # Dagster asset name, e.g. "unit_tests"
    state: State
    facts: list[Fact] = field(default_factory=list)
    reason: str | None = None  # why skipped / not run / failed / missing
    link: str | None = None  # the asset partition in the Dagster UI
    suites: list[SuiteRow] = field(default_factory=list)
    failing_tests: list[FailingTest] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # plain-text problem lines (validation errors, smoke failures)

    def fact(self, label: str) -> Value:
        for item in self.facts:
            if item.label == label:
                return item.value
        raise KeyError(label)


@dataclass(frozen=True)
class HistoryPoint:
    """One head of the PR. Any figure may be None (missing: drawn as a gap)."""

    sha: str | None
    iteration: int | None
    at: str | None
    tests_passed: int | None
    tests_failed: int | None
    duration_seconds: float | None
    run_status: str | None
    current: bool = False

    @classmethod
    def from_dict(cls, item: dict, current: bool = False) -> "HistoryPoint":
        return cls(sha=_str(item.get("sha")), iteration=json_int(item.get("iteration")), at=_str(item.get("at")),
                   tests_passed=json_int(item.get("tests_passed")), tests_failed=json_int(item.get("tests_failed")),
                   duration_seconds=_num(item.get("duration_seconds")), run_status=_str(item.get("run_status")),
                   current=current)


@dataclass(frozen=True)
class PRPage:
    number: int
    title: str | None
    author: str | None
    url: str | None  # the PR on GitHub (PR data: rendered as a link only if http(s))
    base_ref: str | None
    head_ref: str | None
    head_sha: str | None
    ring: str | None
    fork: bool | None
    run_id: str | None
    run_status: str | None  # SUCCESS | FAILURE | CANCELED | STARTED | QUEUED | None (no run)
    run_link: str | None
    skipped_reason: str | None  # why this head has no run (draft, unapproved fork, ...)
    iteration: int | None
    updated_at: str | None  # the latest time recorded by the run (build, deploy); None if none
    generated_at: str  # when this page was rendered
    cards: list[StageCard]
    environment_url: str | None
    image_digest: str | None
    tests_passed: int | None  # over the suites that ran; None when no suite ran or a figure is missing
    tests_failed: int | None  # failed + errors
    failures: list[str]  # run-level failure messages
    history: list[HistoryPoint]  # earlier heads, then this head (current=True)
    page_url: str | None  # absolute URL of this page when a pages base is configured
    stages_planned: list[str] | None  # the plan's stages_to_run; None if unknown
    # This PR on the promotion ladder (entry["promotion"], from the ring records): ring, state, last attempt.
    ladder: list[dict] = field(default_factory=list)

    @property
    def state(self) -> str:
        """Overall: "not run", "failed", "running", "canceled", "passed" (never a score)."""
        if self.run_status is None:
            return "not run"
        if any(card.state == "failed" for card in self.cards) or self.run_status == "FAILURE":
            return "failed"
        if self.run_status in ("STARTED", "QUEUED", "STARTING", "NOT_STARTED"):
            return "running"
        if self.run_status in ("CANCELED", "CANCELING"):
            return "canceled"
        if self.run_status == "SUCCESS":
            return "passed"
        return "missing"

    @property
    def tests_skipped(self) -> bool:
        """Every test suite was skipped for this head (so there are no test figures, by design)."""
        tests = [card for card in self.cards if card.asset in stages.test_assets()]
        return bool(tests) and all(card.state == "skipped" for card in tests)

    def card(self, name: str) -> StageCard:
        for card in self.cards:
            if card.name == name:
                return card
        raise KeyError(name)


# ---------------------------------------------------------------- stages

_RUNNING = {"STARTED": "the run is still going", "QUEUED": "the run is queued", "STARTING": "the run is starting",
            "NOT_STARTED": "the run has not started"}


def _num(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def _str(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _cut(text: str | None, limit: int = MAX_MESSAGE) -> str | None:
    if text is None:
        return None
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _checks_for(entry: dict, asset: str) -> dict[str, str]:
    prefix = f"{asset}:"
    return {key[len(prefix):]: str(value) for key, value in (entry.get("checks") or {}).items()
            if isinstance(key, str) and key.startswith(prefix)}


def _detail(entry: dict, asset: str, check: str | None) -> dict:
    if not check:
        return {}
    detail = (entry.get("check_details") or {}).get(f"{asset}:{check}")
    return detail if isinstance(detail, dict) else {}


def _text_list(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    return [_cut(item) for item in value if isinstance(item, str)]


def _suites(md: dict) -> tuple[list[SuiteRow], list[FailingTest]]:
    rows: list[SuiteRow] = []
    failing: list[FailingTest] = []
    suites = md.get(Meta.SUITE_JSON)
    if not isinstance(suites, list):
        return rows, failing
    for suite in suites:
        if not isinstance(suite, dict):
            continue
        name = _str(suite.get("name"))
        rows.append(SuiteRow(name=name, status=_str(suite.get("status")), tests=json_int(suite.get("tests")),
                             passed=json_int(suite.get("passed")), failed=json_int(suite.get("failed")),
                             errors=json_int(suite.get("errors")), skipped=json_int(suite.get("skipped")),
                             duration_seconds=_num(suite.get("duration_seconds")),
                             coverage_percent=_num(suite.get("coverage_percent")),
                             message=_cut(_str(suite.get("message")))))
        for failure in suite.get("failures") or []:
            if isinstance(failure, dict) and _str(failure.get("test")):
                failing.append(FailingTest(suite=name, test=_cut(_str(failure["test"]), 500),
                                           message=_cut(_str(failure.get("message")))))
    return rows, failing


def _facts(stage: StageAsset, md: dict) -> list[Fact]:
    """The fields the stage publishes (the registry's), each as recorded or None."""
    facts = []
    for f in stage.fields:
        value = f.read(md)
        facts.append(Fact(f.label, value, href=value if f.kind == "url" else None))
    return facts


def _card(stage: StageAsset, entry: dict, number: int, links: Links, planned: list[str] | None) -> StageCard:
    link = links.asset(stage.asset, number)
    base = {"name": stage.title, "asset": stage.asset, "link": link}
    run_status = _str(entry.get("run_status"))
    assets = entry.get("assets") or {}
    if not entry.get("run_id") and not assets:
        reason = _str(entry.get("skipped_reason")) or "no run for this head"
        return StageCard(state="not run", reason=reason, **base)
    record = assets.get(stage.asset)
    if not isinstance(record, dict):
        if run_status in _RUNNING:
            return StageCard(state="not run", reason=_RUNNING[run_status], **base)
        return StageCard(state="missing", reason="the run recorded nothing for this stage", **base)
    status = record.get("status")
    if status == "SKIPPED":
        return StageCard(state="skipped", reason=_str(record.get("skipped_reason")) or "skipped (no reason recorded)",
                         **base)
    if status != "MATERIALIZED":
        if planned is not None and stages.plan_stage_of(stage.asset) not in planned:
            return StageCard(state="skipped", reason="not in this head's plan", **base)
        if run_status in _RUNNING:
            reason = _RUNNING[run_status]
        elif run_status == "FAILURE":
            reason = "not produced: the run failed before this stage"
        elif run_status in ("CANCELED", "CANCELING"):
            reason = "not produced: the run was canceled"
        elif run_status is None:
            reason = "no run status recorded"
        else:
            reason = "not produced by the run"
        return StageCard(state="not run", reason=reason, **base)

    md = record.get("metadata") if isinstance(record.get("metadata"), dict) else {}
    facts = _facts(stage, md)
    is_tests = stage.suite_kind is not None
    suites, failing = _suites(md) if is_tests else ([], [])
    detail = _detail(entry, stage.asset, stage.check)
    notes: list[str] = []
    if is_tests:
        if not failing:  # no per-test detail in suite_json: the check's plain list of "suite: test"
            failing = [FailingTest(suite=None, test=text, message=None)
                       for text in _text_list(detail.get("failing_tests"))]
        notes += _text_list(detail.get("suite_problems"))
    elif stage.asset == "validation_report":
        notes += _text_list(detail.get("errors"))
    elif stage.asset == "smoke_report":
        notes += _text_list(detail.get("failures"))

    # One set of rules for every report (aither_assets/results.py). The card shows the figures recorded,
    # whichever head they belong to (a note below says so when they are another head's).
    result = StageResult(stage, AssetRecord("MATERIALIZED", md), _checks_for(entry, stage.asset),
                         {stage.check: detail} if stage.check else {})
    state: State = result.verdict() or "missing"
    reason: str | None = None
    if state == "failed" and result.blocking_check == "FAILED":
        reason = _cut(_str(detail.get("description")), 300) or "check failed"
    elif state == "failed" and stage.check and result.blocking_check == "PASSED":
        reason = "check failed"
    elif state == "failed" and any(value == "FAILED" for value in result.checks.values()):
        reason = "a check failed"
    elif state == "missing":
        reason = "no check result and no " + " / ".join(result.missing_figures() or ["figures"]) + " recorded"

    head = _str(entry.get("head_sha"))
    recorded = _str(md.get(Meta.HEAD_SHA))
    if head and recorded and recorded != head:
        notes.insert(0, f"these figures are for head {recorded[:12]}, not the current head {head[:12]}")
    return StageCard(state=state, facts=facts, reason=reason, suites=suites, failing_tests=failing, notes=notes,
                     **base)


# ---------------------------------------------------------------- totals and history

def _metadata(entry: dict, asset: str) -> dict | None:
    record = (entry.get("assets") or {}).get(asset)
    if not isinstance(record, dict) or record.get("status") != "MATERIALIZED":
        return None
    md = record.get("metadata")
    return md if isinstance(md, dict) else {}


def test_totals(entry: dict) -> tuple[int | None, int | None, float | None]:
    """(passed, failed + errors, duration in s) over the test suites that ran for this head.

    Skipped suites do not count; a suite that should have run but did not, or a figure not recorded,
    makes the total missing (None) rather than a partial sum.
    """
    assets = entry.get("assets") or {}
    ran = False
    passed = failed = 0
    duration = 0.0
    complete = {"passed": True, "failed": True, "duration": True}
    for asset in stages.test_assets():
        record = assets.get(asset)
        if isinstance(record, dict) and record.get("status") == "SKIPPED":
            continue
        md = _metadata(entry, asset)
        if md is None:
            return None, None, None
        ran = True
        p, f, e = json_int(md.get(Meta.PASSED)), json_int(md.get(Meta.FAILED)), json_int(md.get(Meta.ERRORS))
        d = _num(md.get(Meta.DURATION_SECONDS))
        if p is None:
            complete["passed"] = False
        else:
            passed += p
        if f is None or e is None:
            complete["failed"] = False
        else:
            failed += f + e
        if d is None:
            complete["duration"] = False
        else:
            duration += d
    if not ran:
        return None, None, None
    return (passed if complete["passed"] else None, failed if complete["failed"] else None,
            round(duration, 2) if complete["duration"] else None)


test_totals.__test__ = False  # not a pytest test, despite its name


def _build_time(entry: dict) -> str | None:
    md = _metadata(entry, "build_artifacts") or {}
    build = (md.get(Meta.BUILD_METADATA) or {}).get("build") if isinstance(md.get(Meta.BUILD_METADATA), dict) else None
    return _str(build.get("timestamp")) if isinstance(build, dict) else None


def history_point(entry: dict) -> dict:
    """The history item to store for this head (the same shape ``page_from_summary`` takes in ``history``).

    ``duration_seconds`` is the summed duration of the test suites (the same as the chart's current point).
    """
    passed, failed, duration = test_totals(entry)
    md = _metadata(entry, "build_artifacts") or {}
    return {"sha": _str(entry.get("head_sha")), "iteration": json_int(md.get(Meta.ITERATION)), "at": _build_time(entry),
            "tests_passed": passed, "tests_failed": failed, "duration_seconds": duration,
            "run_status": _str(entry.get("run_status"))}


def _parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _latest(times: list[str | None]) -> str | None:
    parsed = [(moment, text) for text in times if (moment := _parse_time(text)) is not None]
    return max(parsed)[1] if parsed else None


# ---------------------------------------------------------------- the page

def page_from_summary(entry: RunSummary | dict, history: list[dict], links: Links, *,
                      generated_at: str | None = None) -> PRPage:
    """A PR page from one run's summary (or its JSON form), the PR's earlier heads (``history``) and the
    base URLs."""
    if isinstance(entry, RunSummary):
        entry = entry.to_json()
    number = int(entry["number"])
    context = _metadata(entry, "pr_context") or {}
    build_md = _metadata(entry, "build_artifacts") or {}
    document = build_md.get(Meta.BUILD_METADATA)
    build_pr = document.get("pr") if isinstance(document, dict) else None
    build_pr = build_pr if isinstance(build_pr, dict) else {}
    image = _metadata(entry, "container_image") or {}
    environment = _metadata(entry, "pr_environment") or {}
    planned = context.get(Meta.STAGES_TO_RUN)
    planned = [s for s in planned if isinstance(s, str)] if isinstance(planned, list) else None

    cards = [_card(stage, entry, number, links, planned) for stage in stages.stage_assets()]
    passed, failed, _ = test_totals(entry)
    head_sha = _str(entry.get("head_sha")) or _str(context.get(Meta.HEAD_SHA))

    points = [HistoryPoint.from_dict(item) for item in history if isinstance(item, dict)
              and (item.get("sha") is None or item.get("sha") != head_sha)]
    if entry.get("run_id") or entry.get("assets"):
        points.append(HistoryPoint.from_dict(history_point(entry), current=True))

    fork = context.get(Meta.FORK)
    return PRPage(
        number=number,
        title=_str(entry.get("title")) or _str(context.get(Meta.TITLE)),
        author=_str(context.get(Meta.AUTHOR)) or _str(build_pr.get("author")),
        url=_str(context.get(Meta.PR_URL)) or _str(build_pr.get("url")),
        base_ref=_str(entry.get("base")) or _str(context.get(Meta.BASE_REF)),
        head_ref=_str(context.get(Meta.HEAD_REF)) or _str(build_pr.get("head_ref")),
        head_sha=head_sha,
        ring=_str(entry.get("ring")) or _str(context.get(Meta.RING)),
        fork=fork if isinstance(fork, bool) else None,
        run_id=_str(entry.get("run_id")),
        run_status=_str(entry.get("run_status")),
        run_link=links.run(_str(entry.get("run_id"))),
        skipped_reason=_str(entry.get("skipped_reason")),
        iteration=json_int(build_md.get(Meta.ITERATION)),
        updated_at=_latest([_build_time(entry), _str(environment.get(Meta.STARTED_AT))]),
        generated_at=generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        cards=cards,
        environment_url=_str(environment.get(Meta.URL)),
        image_digest=_str(image.get(Meta.DIGEST)),
        tests_passed=passed,
        tests_failed=failed,
        failures=[_cut(text) for text in entry.get("failures") or [] if isinstance(text, str)],
        history=points,
        page_url=links.pr_page(number),
        stages_planned=planned,
        ladder=[_ladder_row(row) for row in entry.get("promotion") or [] if isinstance(row, dict)],
    )


def _ladder_row(row: dict) -> dict:
    last = row.get("last") if isinstance(row.get("last"), dict) else {}
    return {"ring": _str(row.get("ring")), "state": _str(row.get("state")),
            "outcome": _str(last.get("outcome")), "requester": _str(last.get("requester")),
            "first_unmet": _str(last.get("first_unmet"))}

