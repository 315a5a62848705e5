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

from aither_assets import stages as registry
from aither_assets.links import FeedbackLinks
from aither_assets.reporting.values import json_int
from aither_assets.results import RunSummary, StageResult
from aither_assets.stages import Meta, StageAsset

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


# The stages come from the registry (aither_assets/stages.py); read at call time.
Stage = StageAsset


def stages_by_key() -> dict[str, StageAsset]:
    return {stage.key: stage for stage in registry.stage_assets()}


def contexts() -> tuple[str, ...]:
    """The status contexts, one per reported stage, in pipeline order."""
    return tuple(stage.context for stage in registry.stage_assets())


STAGES_BY_KEY = stages_by_key()
CONTEXTS = contexts()


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


def stage_outcomes(entry: RunSummary | Mapping[str, Any], links: FeedbackLinks | Mapping[str, Any] | None = None
                   ) -> list[StageOutcome]:
    """One outcome per stage, in pipeline order."""
    links = FeedbackLinks.of(links)
    summary = RunSummary.from_json(entry)
    if isinstance(entry, RunSummary):
        entry = entry.to_json()
    plan = plan_decisions(entry)
    return [_outcome(stage, summary, entry, plan, links) for stage in registry.stage_assets()]


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
    if status == "MATERIALIZED" and head and metadata.get(Meta.HEAD_SHA) not in (None, head):
        return None, {}, None
    return status, dict(metadata), record.get("skipped_reason")


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
    plan = metadata.get(Meta.PLAN)
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


def _outcome(stage: Stage, summary: RunSummary, entry: Mapping[str, Any], plan: dict[str, tuple[bool, str]],
             links: FeedbackLinks) -> StageOutcome:
    url = links.stage_url(stage.asset, entry.get("number", ""))

    def out(state: State, description: str, skipped: bool = False) -> StageOutcome:
        return StageOutcome(stage.context, state, short(description), url, skipped, stage.key)

    result = summary.stage(stage)
    decision = plan.get(registry.plan_stage_of(stage.asset) or "")
    if result.status == "SKIPPED":
        reason = (result.record.skipped_reason or (decision[1] if decision and not decision[0] else "")
                  or "not needed for this head")
        return out("success", f"skipped: {reason}", skipped=True)
    if result.status == "MATERIALIZED":
        description, missing = _DESCRIPTIONS.get(stage.key, _generic)(result)
        verdict = result.verdict()
        if verdict == "missing":
            return out("error", missing)
        if verdict == "passed" and stage.key == "quality" and result.value(Meta.COMPLETE) is False:
            return out("error", f"incomplete: a linter did not run; {description} from the others")
        return out("failure" if verdict == "failed" else "success", description)

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


# -- what each stage's status says: (description, what to say when its figures are missing) ----------
# The verdict itself is the one set of rules in aither_assets/results.py.


def _counts(result: StageResult) -> str:
    md = result.metadata
    return (f"{count_text(md.get(Meta.ERROR_COUNT))} errors, {count_text(md.get(Meta.WARNING_COUNT))} warnings, "
            f"{count_text(md.get(Meta.INFO_COUNT))} info")


def _validation(result: StageResult) -> tuple[str, str]:
    text = _counts(result)
    files = result.value(Meta.FILES_CHECKED)
    if files is not None:
        text += f" in {plural(files, 'file')}"
    return text, "missing: no finding counts recorded"


def _build(result: StageResult) -> tuple[str, str]:
    md = result.metadata
    iteration, files = result.value(Meta.ITERATION), result.value(Meta.FILES_PACKAGED)
    parts = []
    if iteration is not None:
        parts.append(f"iteration {iteration}")
    kinds = [label for key, label in ((Meta.SHA256_ZIP, ".zip"), (Meta.SHA256_TAR_GZ, ".tar.gz")) if md.get(key)]
    if files is not None:
        parts.append(f"{plural(files, 'file')} packaged" + (f" as {' + '.join(kinds)}" if kinds else ""))
    elif kinds:
        parts.append(f"{' + '.join(kinds)} built")
    return ", ".join(parts), "missing: no build figures recorded"


def _quality(result: StageResult) -> tuple[str, str]:
    if result.value(Meta.COMPLETE) is False:
        return _counts(result), "incomplete: no linter output could be read"
    return _counts(result), "missing: no finding counts recorded"


def _tests(result: StageResult) -> tuple[str, str]:
    stopped = [str(item) for item in result.blocking_details.get("stopped_suites") or []]
    if not stopped:
        return _test_counts(result)
    # The sandbox stopped a suite: that is the news, before any count (pass/fail follows the failed check).
    prefix = f"stopped by the sandbox: {'; '.join(stopped)}; "
    return tuple(prefix + text for text in _test_counts(result))


def _test_counts(result: StageResult) -> tuple[str, str]:
    md = result.metadata
    tests, passed, failed = json_int(md.get(Meta.TESTS)), json_int(md.get(Meta.PASSED)), json_int(md.get(Meta.FAILED))
    errors, skipped = json_int(md.get(Meta.ERRORS)), json_int(md.get(Meta.SKIPPED))
    suites = json_int(md.get(Meta.SUITES))
    if suites == 0:
        return "no suite of this kind is declared", "no suite of this kind is declared"
    if passed is None or failed is None:
        text = "counts missing: a suite produced no readable report"
        problems = result.blocking_details.get("suite_problems") or []
        if problems:
            text += f" ({problems[0]})"
        return text, text
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
    duration = _num(md.get(Meta.DURATION_SECONDS))
    if duration is not None:
        extra.append(f"{duration:.1f} s")
    if extra:
        text += f" ({', '.join(extra)})"
    return text, f"{text}; counts missing: a suite produced no readable report"


def _image(result: StageResult) -> tuple[str, str]:
    md = result.metadata
    digest = md.get(Meta.DIGEST)
    text = short(digest, 24) if isinstance(digest, str) else ""
    tags = md.get(Meta.TAGS) if isinstance(md.get(Meta.TAGS), list) else None
    if tags is not None:
        text += f", {plural(len(tags), 'tag')}"
    platforms = md.get(Meta.PLATFORMS)
    if isinstance(platforms, Mapping) and platforms:
        text += f", {', '.join(sorted(str(p) for p in platforms))}"
    return text, "missing: no image digest recorded"


def _environment(result: StageResult) -> tuple[str, str]:
    md = result.metadata
    text = f"running at {md.get(Meta.URL)}"
    expires = md.get(Meta.EXPIRES_AT)
    if isinstance(expires, str) and expires:
        text += f" until {expires[:16].replace('T', ' ')}"
    return text, "missing: no environment URL recorded"


def _smoke(result: StageResult) -> tuple[str, str]:
    md = result.metadata
    checks, passed, failed = (json_int(md.get(Meta.CHECKS)), json_int(md.get(Meta.PASSED)),
                              json_int(md.get(Meta.FAILED)))
    if checks == 0:
        text = "no smoke check declared"
    elif checks is None or passed is None:
        text = "counts missing"
    else:
        text = f"{passed}/{checks} checks passed"
        failures = result.blocking_details.get("failures") or []
        if failed:
            text = f"{failed} of {checks} checks failed" + (f": {failures[0]}" if failures else "")
    return text, f"missing: {text}" if text == "counts missing" else text


def _generic(result: StageResult) -> tuple[str, str]:
    """A stage with no description of its own: its fields as recorded."""
    parts = [f"{f.label} {value}" for f in result.stage.fields if (value := f.read(result.metadata)) is not None]
    missing = result.missing_figures()
    return ", ".join(parts) or "done", "missing: " + (", ".join(missing) if missing else "no figures") + " not recorded"


_DESCRIPTIONS = {
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
