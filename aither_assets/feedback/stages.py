"""Per-stage outcomes of one PR's pipeline run, as GitHub commit statuses / check runs see them.

Pure: reads one entry of the per-PR summary (number, head_sha, run_status,
assets{name: {status, metadata, skipped_reason}}, checks{"asset:check": PASSED|FAILED},
check_details, failures) and never invents a figure. What a stage has no data for
says so: pending while the run is still going, "not run" after a failed run,
"missing" after a successful one.

GitHub commit statuses have no "skipped": a skipped stage is ``success`` with a
``skipped: <reason>`` description (check runs get the ``skipped`` conclusion).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Literal, Mapping

from aither_assets.feedback.links import FeedbackLinks
from aither_assets.reporting.values import json_int

State = Literal["success", "failure", "error", "pending"]

CONTEXT_PREFIX = "aither/"
DESCRIPTION_LIMIT = 140  # GitHub's limit for a commit status description

# Dagster run statuses (DagsterRunStatus values) by what they mean for a stage without data.
RUN_WAITING = {"QUEUED", "NOT_STARTED", "MANAGED"}
RUN_GOING = {"STARTING", "STARTED"}
RUN_CANCELED = {"CANCELING", "CANCELED"}
RUN_FAILED = {"FAILURE"}
RUN_DONE = {"SUCCESS"}

NOT_RUN_EARLIER_FAILED = "not run: an earlier stage failed"


@dataclass(frozen=True)
class Stage:
    key: str  # context suffix, e.g. "unit-tests"
    title: str  # for people, e.g. "unit tests"
    asset: str  # the asset that holds the stage's result
    plan_stage: str  # the stage name in pr_context's plan
    check: str | None = None  # the blocking asset check, "asset:check"
    steps: tuple[str, ...] = ()  # Dagster step keys that produce the asset

    @property
    def context(self) -> str:
        return CONTEXT_PREFIX + self.key


STAGES: tuple[Stage, ...] = (
    Stage("validation", "validation", "validation_report", "validation",
          "validation_report:no_error_findings", ("validation_report",)),
    Stage("build", "build", "build_artifacts", "build", None, ("build_artifacts",)),
    Stage("quality", "quality", "quality_report", "quality", None, ("quality_report",)),
    Stage("unit-tests", "unit tests", "unit_tests", "tests", "unit_tests:all_tests_passed",
          ("test_suites", "unit_tests")),
    Stage("domain-tests", "domain tests", "domain_tests", "tests", "domain_tests:all_tests_passed",
          ("test_suites", "domain_tests")),
    Stage("integration-tests", "integration tests", "integration_tests", "tests",
          "integration_tests:all_tests_passed", ("test_suites", "integration_tests")),
    Stage("image", "image", "container_image", "image", None, ("container_image",)),
    Stage("environment", "environment", "pr_environment", "environment", None, ("pr_environment",)),
    Stage("smoke", "smoke", "smoke_report", "smoke", "smoke_report:smoke_passed", ("smoke_report",)),
)
STAGES_BY_KEY = {stage.key: stage for stage in STAGES}
CONTEXTS = tuple(stage.context for stage in STAGES)


@dataclass(frozen=True)
class StageOutcome:
    context: str  # "aither/unit-tests"
    state: State
    description: str  # <= 140 characters, real figures only
    target_url: str | None = None
    skipped: bool = False  # state is "success" because the plan skipped the stage
    stage: str = ""  # the Stage key, e.g. "unit-tests"

    @property
    def not_run(self) -> bool:
        return self.state == "error" and self.description.startswith("not run")


def stage_outcomes(entry: Mapping[str, Any], links: FeedbackLinks | Mapping[str, Any] | None = None
                   ) -> list[StageOutcome]:
    """One outcome per stage, in pipeline order."""
    links = FeedbackLinks.of(links)
    plan = plan_decisions(entry)
    return [_outcome(stage, entry, plan, links) for stage in STAGES]


def starting_entry(context: Mapping[str, Any], run_id: str) -> dict[str, Any]:
    """The summary entry of a run that has just started: PR facts and plan from pr_context's value,
    no stage results yet (each stage reads pending, or skipped when the plan says so)."""
    return {
        "number": context["number"],
        "title": context.get("title"),
        "author": context.get("author"),
        "url": context.get("url"),
        "head_sha": context["head_sha"],
        "base": context.get("base_ref"),
        "ring": context.get("ring"),
        "run_id": run_id,
        "run_status": "STARTED",
        "assets": {"pr_context": {"status": "MATERIALIZED",
                                  "metadata": {"head_sha": context["head_sha"], "plan": context.get("plan") or {}}}},
        "checks": {},
        "check_details": {},
        "failures": [],
    }


def overall_state(outcomes: list[StageOutcome]) -> State:
    """GitHub's combining rule: failure/error beat pending beats success."""
    states = {o.state for o in outcomes}
    if "failure" in states:
        return "failure"
    if "error" in states:
        return "error"
    if "pending" in states:
        return "pending"
    return "success"


# -- reading the entry ---------------------------------------------------------------------


def asset_data(entry: Mapping[str, Any], asset: str) -> tuple[str | None, dict[str, Any], str | None]:
    """(status, metadata, skipped_reason) of one asset for this entry's head; (None, {}, None) when absent.

    Metadata recorded for another head SHA is not this head's result: it counts as absent.
    """
    record = (entry.get("assets") or {}).get(asset)
    if not isinstance(record, Mapping):
        return None, {}, None
    status = record.get("status")
    metadata = record.get("metadata") if isinstance(record.get("metadata"), Mapping) else {}
    head = entry.get("head_sha")
    if status == "MATERIALIZED" and head and metadata.get("head_sha") not in (None, head):
        return None, {}, None
    return status, dict(metadata), record.get("skipped_reason")


def check_state(entry: Mapping[str, Any], check: str | None) -> str | None:
    if not check:
        return None
    value = (entry.get("checks") or {}).get(check)
    return value if value in ("PASSED", "FAILED") else None


def check_details(entry: Mapping[str, Any], check: str | None) -> dict[str, Any]:
    if not check:
        return {}
    value = (entry.get("check_details") or {}).get(check)
    return dict(value) if isinstance(value, Mapping) else {}


_MD_UNESCAPE = re.compile(r"\\(.)")


def md_unescape(text: str) -> str:
    """Plain text back from ``md_escape`` output (for a GitHub status, which is not Markdown)."""
    return html.unescape(_MD_UNESCAPE.sub(r"\1", text))


def plan_decisions(entry: Mapping[str, Any]) -> dict[str, tuple[bool, str]]:
    """pr_context's plan, ``{stage: (run?, why)}``, from its Markdown table (or a dict, if given one)."""
    _, metadata, _ = asset_data(entry, "pr_context")
    plan = metadata.get("plan")
    decisions: dict[str, tuple[bool, str]] = {}
    if isinstance(plan, Mapping):  # the asset's value: {stage: {"run": bool, "reason": str}}
        for stage, decision in plan.items():
            if isinstance(decision, Mapping):
                decisions[str(stage)] = (bool(decision.get("run")), str(decision.get("reason") or ""))
        return decisions
    if not isinstance(plan, str):
        return decisions
    for line in plan.splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) != 3 or cells[1] not in ("run", "skip"):
            continue
        decisions[md_unescape(cells[0])] = (cells[1] == "run", md_unescape(cells[2]))
    return decisions


def step_failure(entry: Mapping[str, Any], steps: tuple[str, ...]) -> str | None:
    """The first line of the error of a failed step that produces this stage, if any."""
    for failure in entry.get("failures") or ():
        step, _, message = str(failure).partition(": ")
        if step in steps:
            first = message.strip().splitlines()[0] if message.strip() else "step failed"
            # A blocking check failing is reported by the check itself, not as a crash of the step.
            if "DagsterAssetCheckFailedError" in first:
                continue
            return first
    return None


# -- text helpers ------------------------------------------------------------------------------------


def short(text: str, limit: int = DESCRIPTION_LIMIT) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def count_text(value: Any) -> str:
    n = json_int(value)
    return "missing" if n is None else str(n)


def plural(n: int, word: str, words: str | None = None) -> str:
    return f"{n} {word if n == 1 else (words or word + 's')}"


# -- the stages ------------------------------------------------------------------------------------------


def _outcome(stage: Stage, entry: Mapping[str, Any], plan: dict[str, tuple[bool, str]],
             links: FeedbackLinks) -> StageOutcome:
    url = links.stage_url(stage.asset, entry.get("number", ""))

    def out(state: State, description: str, skipped: bool = False) -> StageOutcome:
        return StageOutcome(stage.context, state, short(description), url, skipped, stage.key)

    status, metadata, skipped_reason = asset_data(entry, stage.asset)
    decision = plan.get(stage.plan_stage)
    if status == "SKIPPED":
        reason = skipped_reason or (decision[1] if decision and not decision[0] else "") or "not needed for this head"
        return out("success", f"skipped: {reason}", skipped=True)
    if status == "MATERIALIZED":
        state, description = _EVALUATORS[stage.key](stage, entry, metadata)
        return out(state, description)

    # No result for this head.
    if decision is not None and not decision[0]:
        return out("success", f"skipped: {decision[1] or 'not needed for this head'}", skipped=True)
    run_status = entry.get("run_status")
    if run_status is None:
        reason = entry.get("skipped_reason")
        return out("pending", f"not run yet: {reason}" if reason else "waiting for the pipeline to run this head")
    if run_status in RUN_WAITING:
        return out("pending", "queued: the run has not started")
    if run_status in RUN_GOING:
        return out("pending", "in progress")
    failure = step_failure(entry, stage.steps)
    if failure:
        return out("error", f"failed: {failure}")
    if run_status in RUN_FAILED:
        return out("error", NOT_RUN_EARLIER_FAILED)
    if run_status in RUN_CANCELED:
        return out("error", "not run: the run was canceled")
    if run_status in RUN_DONE:
        return out("error", "missing: the run finished without a result for this stage")
    return out("error", f"missing: no result (run {run_status})")


def _checked(entry: Mapping[str, Any], stage: Stage, failed_by_figures: bool) -> bool:
    """Whether the stage failed: its blocking check decides; without one, the figures do."""
    check = check_state(entry, stage.check)
    if check == "FAILED":
        return True
    if check == "PASSED":
        return False
    return failed_by_figures


def _validation(stage: Stage, entry: Mapping[str, Any], md: dict) -> tuple[State, str]:
    errors, warnings, infos = md.get("error_count"), md.get("warning_count"), md.get("info_count")
    files = json_int(md.get("files_checked"))
    text = f"{count_text(errors)} errors, {count_text(warnings)} warnings, {count_text(infos)} info"
    if files is not None:
        text += f" in {plural(files, 'file')}"
    failed = _checked(entry, stage, (json_int(errors) or 0) > 0)
    if json_int(errors) is None and check_state(entry, stage.check) is None:
        return "error", "missing: no finding counts recorded"
    return ("failure" if failed else "success"), text


def _build(stage: Stage, entry: Mapping[str, Any], md: dict) -> tuple[State, str]:
    iteration, files = json_int(md.get("iteration")), json_int(md.get("files_packaged"))
    parts = []
    if iteration is not None:
        parts.append(f"iteration {iteration}")
    kinds = [label for key, label in (("sha256_zip", ".zip"), ("sha256_tar_gz", ".tar.gz")) if md.get(key)]
    if files is not None:
        parts.append(f"{plural(files, 'file')} packaged" + (f" as {' + '.join(kinds)}" if kinds else ""))
    elif kinds:
        parts.append(f"{' + '.join(kinds)} built")
    if not parts:
        return "error", "missing: no build figures recorded"
    return "success", ", ".join(parts)


def _quality(stage: Stage, entry: Mapping[str, Any], md: dict) -> tuple[State, str]:
    errors, warnings, infos = (json_int(md.get("error_count")), json_int(md.get("warning_count")),
                               json_int(md.get("info_count")))
    complete = md.get("complete")
    if errors is None and warnings is None and infos is None:
        if complete is False:
            return "error", "incomplete: no linter output could be read"
        return "error", "missing: no finding counts recorded"
    text = f"{count_text(errors)} errors, {count_text(warnings)} warnings, {count_text(infos)} info"
    if (errors or 0) > 0:
        return "failure", text
    if complete is False:
        return "error", f"incomplete: a linter did not run; {text} from the others"
    return "success", text


def _tests(stage: Stage, entry: Mapping[str, Any], md: dict) -> tuple[State, str]:
    tests, passed, failed = json_int(md.get("tests")), json_int(md.get("passed")), json_int(md.get("failed"))
    errors, skipped, suites = json_int(md.get("errors")), json_int(md.get("skipped")), json_int(md.get("suites"))
    if passed is None or failed is None:
        text = "counts missing: a suite produced no readable report"
        problems = check_details(entry, stage.check).get("suite_problems") or []
        if problems:
            text += f" ({problems[0]})"
    else:
        parts = [f"{passed} passed", f"{failed} failed"]
        if errors:
            parts.append(f"{errors} errors")
        if skipped:
            parts.append(f"{skipped} skipped")
        text = ", ".join(parts)
        extra = []
        if tests is not None:
            extra.append(plural(tests, "test"))
        if suites is not None:
            extra.append(plural(suites, "suite"))
        duration = _num(md.get("duration_seconds"))
        if duration is not None:
            extra.append(f"{duration:.1f} s")
        if extra:
            text += f" ({', '.join(extra)})"
    stopped = [str(item) for item in check_details(entry, stage.check).get("stopped_suites") or []]
    if stopped:  # the sandbox stopped a suite: that is the news, before any count
        text = f"stopped by the sandbox: {'; '.join(stopped)}; {text}"
    bad = (failed or 0) + (errors or 0) > 0 or passed is None or bool(stopped)
    if suites == 0:
        text = "no suite of this kind is declared"
    failed_stage = _checked(entry, stage, bad and suites != 0)
    return ("failure" if failed_stage else "success"), text


def _image(stage: Stage, entry: Mapping[str, Any], md: dict) -> tuple[State, str]:
    digest = md.get("digest")
    if not isinstance(digest, str) or not digest:
        return "error", "missing: no image digest recorded"
    tags = md.get("tags") if isinstance(md.get("tags"), list) else None
    text = short(digest, 24)
    if tags is not None:
        text += f", {plural(len(tags), 'tag')}"
    platforms = md.get("platforms")
    if isinstance(platforms, Mapping) and platforms:
        text += f", {', '.join(sorted(str(p) for p in platforms))}"
    return "success", text


def _environment(stage: Stage, entry: Mapping[str, Any], md: dict) -> tuple[State, str]:
    url = md.get("url")
    if not isinstance(url, str) or not url:
        return "error", "missing: no environment URL recorded"
    text = f"running at {url}"
    expires = md.get("expires_at")
    if isinstance(expires, str) and expires:
        text += f" until {expires[:16].replace('T', ' ')}"
    return "success", text


def _smoke(stage: Stage, entry: Mapping[str, Any], md: dict) -> tuple[State, str]:
    checks, passed, failed = json_int(md.get("checks")), json_int(md.get("passed")), json_int(md.get("failed"))
    if checks == 0:
        text = "no smoke check declared"
    elif checks is None or passed is None:
        text = "counts missing"
    else:
        text = f"{passed}/{checks} checks passed"
        failures = check_details(entry, stage.check).get("failures") or []
        if failed:
            text = f"{failed} of {checks} checks failed" + (f": {failures[0]}" if failures else "")
    failed_stage = _checked(entry, stage, (failed or 0) > 0 or (checks is None and passed is None))
    return ("failure" if failed_stage else "success"), text


_EVALUATORS = {
    "validation": _validation,
    "build": _build,
    "quality": _quality,
    "unit-tests": _tests,
    "domain-tests": _tests,
    "integration-tests": _tests,
    "image": _image,
    "environment": _environment,
    "smoke": _smoke,
}
