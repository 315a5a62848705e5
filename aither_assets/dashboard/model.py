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
from urllib.parse import quote

from aither_assets.reporting.values import json_int

State = Literal["passed", "failed", "skipped", "not run", "missing"]
Value = int | float | str | None

# A message longer than this is cut (the full text stays in the Dagster UI).
MAX_MESSAGE = 2000


@dataclass(frozen=True)
class Links:
    """Base URLs (operator configuration, not PR data)."""

    dagster_ui: str | None = None  # e.g. http://127.0.0.1:3000
    pages_base: str | None = None  # where the pages are published, e.g. https://acme.github.io/app

    def run(self, run_id: str | None) -> str | None:
        if not self.dagster_ui or not run_id:
            return None
        return f"{self.dagster_ui.rstrip('/')}/runs/{quote(str(run_id), safe='')}"

    def asset(self, asset_name: str, partition: str | int) -> str | None:
        """The asset's page in the Dagster UI, on its partitions tab with this PR's partition selected.

        Same format as the UI's own ``assetDetailsPathForKey``: ``/assets/<key path>?view=partitions&partition=<p>``.
        """
        if not self.dagster_ui:
            return None
        path = "/".join(quote(part, safe="") for part in asset_name.split("/"))
        return (f"{self.dagster_ui.rstrip('/')}/assets/{path}"
                f"?view=partitions&partition={quote(str(partition), safe='')}")

    def pr_page(self, number: int) -> str | None:
        if not self.pages_base:
            return None
        return f"{self.pages_base.rstrip('/')}/pr-{int(number)}/"


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
        tests = [card for card in self.cards if card.asset in TEST_ASSETS]
        return bool(tests) and all(card.state == "skipped" for card in tests)

    def card(self, name: str) -> StageCard:
        for card in self.cards:
            if card.name == name:
                return card
        raise KeyError(name)


# ---------------------------------------------------------------- stages

@dataclass(frozen=True)
class _Stage:
    name: str
    asset: str
    plan: str  # name in pr_context.stages_to_run
    check: str | None  # the blocking check that decides passed/failed


STAGES: tuple[_Stage, ...] = (
    _Stage("validation", "validation_report", "validation", "no_error_findings"),
    _Stage("build", "build_artifacts", "build", None),
    _Stage("quality", "quality_report", "quality", None),
    _Stage("unit tests", "unit_tests", "tests", "all_tests_passed"),
    _Stage("domain tests", "domain_tests", "tests", "all_tests_passed"),
    _Stage("integration tests", "integration_tests", "tests", "all_tests_passed"),
    _Stage("image", "container_image", "image", None),
    _Stage("environment", "pr_environment", "environment", None),
    _Stage("smoke", "smoke_report", "smoke", "smoke_passed"),
)
TEST_ASSETS = ("unit_tests", "domain_tests", "integration_tests")

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
    suites = md.get("suite_json")
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


def _facts(stage: _Stage, md: dict) -> list[Fact]:
    g = md.get
    if stage.asset == "validation_report":
        return [Fact("errors", json_int(g("error_count"))), Fact("warnings", json_int(g("warning_count"))),
                Fact("info", json_int(g("info_count"))), Fact("files checked", json_int(g("files_checked")))]
    if stage.asset == "build_artifacts":
        return [Fact("iteration", json_int(g("iteration"))), Fact("files packaged", json_int(g("files_packaged"))),
                Fact("sha256 .zip", _str(g("sha256_zip"))), Fact("sha256 .tar.gz", _str(g("sha256_tar_gz")))]
    if stage.asset == "quality_report":
        complete = g("complete")
        return [Fact("findings", json_int(g("findings_total"))), Fact("errors", json_int(g("error_count"))),
                Fact("warnings", json_int(g("warning_count"))), Fact("info", json_int(g("info_count"))),
                Fact("all linters ran", complete if isinstance(complete, bool) else None)]
    if stage.asset in TEST_ASSETS:
        facts = [Fact("tests", json_int(g("tests"))), Fact("passed", json_int(g("passed"))),
                 Fact("failed", json_int(g("failed"))),
                 Fact("errors", json_int(g("errors"))), Fact("skipped", json_int(g("skipped"))),
                 Fact("duration (s)", _num(g("duration_seconds")))]
        if stage.asset == "unit_tests":
            facts.append(Fact("tests in no suite", json_int(g("uncovered_count"))))
        return facts
    if stage.asset == "container_image":
        tags = g("tags")
        platforms = g("platforms")
        return [Fact("digest", _str(g("digest"))), Fact("reference", _str(g("reference"))),
                Fact("tags", ", ".join(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else None),
                Fact("platforms", ", ".join(str(p) for p in platforms) if isinstance(platforms, (dict, list)) and
                     platforms else None),
                Fact("build (s)", _num(g("build_seconds"))), Fact("push (s)", _num(g("push_seconds")))]
    if stage.asset == "pr_environment":
        url = _str(g("url"))
        return [Fact("URL", url, href=url), Fact("port", json_int(g("port"))), Fact("container", _str(g("container"))),
                Fact("digest running", _str(g("digest"))), Fact("started", _str(g("started_at"))),
                Fact("expires", _str(g("expires_at")))]
    if stage.asset == "smoke_report":
        return [Fact("checks", json_int(g("checks"))), Fact("passed", json_int(g("passed"))),
                Fact("failed", json_int(g("failed")))]
    return []


def _verdict_without_check(stage: _Stage, md: dict) -> tuple[State, str | None]:
    """For a materialized asset with no recorded check result: decide from its own figures, or say missing."""
    if stage.asset in TEST_ASSETS:
        failed, errors = json_int(md.get("failed")), json_int(md.get("errors"))
        if (failed or 0) + (errors or 0) > 0:
            return "failed", None
        if failed is None or errors is None:
            return "missing", "no check result and no failure counts recorded"
        return "passed", None
    if stage.asset in ("validation_report", "quality_report"):
        errors = json_int(md.get("error_count"))
        if errors is None:
            return "missing", "no check result and no error count recorded"
        return ("failed", None) if errors > 0 else ("passed", None)
    if stage.asset == "smoke_report":
        failed, checks = json_int(md.get("failed")), json_int(md.get("checks"))
        if failed is not None and failed > 0:
            return "failed", None
        if failed is None or not checks:
            return "missing", "no check result and no smoke counts recorded"
        return "passed", None
    return "passed", None  # build, image, environment: the asset exists, which is what the stage produces


def _card(stage: _Stage, entry: dict, number: int, links: Links, planned: list[str] | None) -> StageCard:
    link = links.asset(stage.asset, number)
    base = {"name": stage.name, "asset": stage.asset, "link": link}
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
        if planned is not None and stage.plan not in planned:
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
    suites, failing = _suites(md) if stage.asset in TEST_ASSETS else ([], [])
    detail = _detail(entry, stage.asset, stage.check)
    notes: list[str] = []
    if stage.asset in TEST_ASSETS:
        if not failing:  # no per-test detail in suite_json: the check's plain list of "suite: test"
            failing = [FailingTest(suite=None, test=text, message=None)
                       for text in _text_list(detail.get("failing_tests"))]
        notes += _text_list(detail.get("suite_problems"))
    elif stage.asset == "validation_report":
        notes += _text_list(detail.get("errors"))
    elif stage.asset == "smoke_report":
        notes += _text_list(detail.get("failures"))

    checks = _checks_for(entry, stage.asset)
    reason: str | None = None
    if stage.check and checks.get(stage.check) in ("FAILED", "PASSED"):
        state: State = "failed" if checks[stage.check] == "FAILED" else "passed"
        if any(value == "FAILED" for value in checks.values()):
            state = "failed"
        if state == "failed":
            reason = _cut(_str(detail.get("description")), 300) or "check failed"
    elif any(value == "FAILED" for value in checks.values()):
        state, reason = "failed", "a check failed"
    else:
        state, reason = _verdict_without_check(stage, md)

    head = _str(entry.get("head_sha"))
    recorded = _str(md.get("head_sha"))
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
    for asset in TEST_ASSETS:
        record = assets.get(asset)
        if isinstance(record, dict) and record.get("status") == "SKIPPED":
            continue
        md = _metadata(entry, asset)
        if md is None:
            return None, None, None
        ran = True
        p, f, e = json_int(md.get("passed")), json_int(md.get("failed")), json_int(md.get("errors"))
        d = _num(md.get("duration_seconds"))
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
    build = (md.get("build_metadata") or {}).get("build") if isinstance(md.get("build_metadata"), dict) else None
    return _str(build.get("timestamp")) if isinstance(build, dict) else None


def history_point(entry: dict) -> dict:
    """The history item to store for this head (the same shape ``page_from_summary`` takes in ``history``).

    ``duration_seconds`` is the summed duration of the test suites (the same as the chart's current point).
    """
    passed, failed, duration = test_totals(entry)
    md = _metadata(entry, "build_artifacts") or {}
    return {"sha": _str(entry.get("head_sha")), "iteration": json_int(md.get("iteration")), "at": _build_time(entry),
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

def page_from_summary(entry: dict, history: list[dict], links: Links, *, generated_at: str | None = None) -> PRPage:
    """A PR page from one summary entry, the PR's earlier heads (``history``) and the base URLs."""
    number = int(entry["number"])
    context = _metadata(entry, "pr_context") or {}
    build_md = _metadata(entry, "build_artifacts") or {}
    build_pr = (build_md.get("build_metadata") or {}).get("pr") if isinstance(build_md.get("build_metadata"), dict) \
        else None
    build_pr = build_pr if isinstance(build_pr, dict) else {}
    image = _metadata(entry, "container_image") or {}
    environment = _metadata(entry, "pr_environment") or {}
    planned = context.get("stages_to_run")
    planned = [s for s in planned if isinstance(s, str)] if isinstance(planned, list) else None

    cards = [_card(stage, entry, number, links, planned) for stage in STAGES]
    passed, failed, _ = test_totals(entry)
    head_sha = _str(entry.get("head_sha")) or _str(context.get("head_sha"))

    points = [HistoryPoint.from_dict(item) for item in history if isinstance(item, dict)
              and (item.get("sha") is None or item.get("sha") != head_sha)]
    if entry.get("run_id") or entry.get("assets"):
        points.append(HistoryPoint.from_dict(history_point(entry), current=True))

    fork = context.get("fork")
    return PRPage(
        number=number,
        title=_str(entry.get("title")) or _str(context.get("title")),
        author=_str(context.get("author")) or _str(build_pr.get("author")),
        url=_str(context.get("pr_url")) or _str(build_pr.get("url")),
        base_ref=_str(entry.get("base")) or _str(context.get("base_ref")),
        head_ref=_str(context.get("head_ref")) or _str(build_pr.get("head_ref")),
        head_sha=head_sha,
        ring=_str(entry.get("ring")) or _str(context.get("ring")),
        fork=fork if isinstance(fork, bool) else None,
        run_id=_str(entry.get("run_id")),
        run_status=_str(entry.get("run_status")),
        run_link=links.run(_str(entry.get("run_id"))),
        skipped_reason=_str(entry.get("skipped_reason")),
        iteration=json_int(build_md.get("iteration")),
        updated_at=_latest([_build_time(entry), _str(environment.get("started_at"))]),
        generated_at=generated_at or datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        cards=cards,
        environment_url=_str(environment.get("url")),
        image_digest=_str(image.get("digest")),
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

