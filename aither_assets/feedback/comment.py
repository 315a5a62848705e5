"""The one sticky PR comment: a Markdown summary of the PR's pipeline run, edited in place.

Pure. Every string the PR controls (title, branch, suite/test/file names, messages,
smoke paths, skip reasons) goes through ``md_escape``; URLs become links only when
they are http(s); numbers come from the summary entry or the comment says
"missing"/"not run". Long lists are cut with "N more" and the whole body is kept
under GitHub's 65536-character limit.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from aither_assets import stages
from aither_assets.feedback.stages import (
    StageOutcome,
    asset_data,
    check_details,
    overall_state,
    plural,
    stage_outcomes,
    stages_by_key,
)
from aither_assets.links import FeedbackLinks, is_http_url, link_target
from aither_assets.markdown import md_escape, md_table
from aither_assets.stages import Meta

MARKER = "<!-- aither:pr-comment v1 -->"
GITHUB_COMMENT_LIMIT = 65536
BODY_LIMIT = 60000  # headroom below GitHub's limit (it counts characters; emoji may count double)

MAX_SUITES = 40
MAX_FAILING_TESTS = 20
MAX_FINDINGS = 10
MAX_TAGS = 20
MAX_SMOKE_FAILURES = 10
MESSAGE_CHARS = 200
NAME_CHARS = 300

STATE_ICONS = {"success": "✅", "failure": "❌", "error": "⚠️", "pending": "⏳"}
SKIPPED_ICON = "⏭️"
SUITE_ICONS = {"passed": "✅ passed", "failed": "❌ failed", "error": "⚠️ error", "timeout": "⏱️ timeout",
               "empty": "∅ empty"}
MISSING = "missing"

_HEX_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9_.:/@-]{1,300}$")
_CONTAINER = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")


# -- small pieces ------------------------------------------------------------------------------------


def text(value: Any, limit: int = NAME_CHARS) -> str:
    """PR-controlled text: whitespace collapsed, shortened, then escaped (never cut inside an escape)."""
    value = " ".join(str(value).split())
    if len(value) > limit:
        value = value[: limit - 1] + "…"
    return md_escape(value)


def code(value: str, pattern: re.Pattern) -> str:
    """A code span for values of a known-safe shape (digests, tags); anything else is escaped text."""
    return f"`{value}`" if isinstance(value, str) and pattern.match(value) else text(value)


def link(label: str, url: Any) -> str:
    """``label`` (already escaped) linked to ``url`` when it is http(s); the label alone otherwise."""
    if is_http_url(url):
        return f"[{label}](<{link_target(url)}>)"
    return label


def url_text(url: Any) -> str:
    """A URL shown to people: a link when http(s), escaped text otherwise."""
    if not isinstance(url, str) or not url:
        return MISSING
    return link(text(url, 500), url)


def number(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return MISSING
    return str(int(value)) if float(value).is_integer() else str(value)


def seconds(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return MISSING
    return f"{value:.1f} s"


def more(shown: int, total: int) -> str | None:
    return f"… and {total - shown} more" if total > shown else None


def stage_icon(outcome: StageOutcome) -> str:
    return SKIPPED_ICON if outcome.skipped else STATE_ICONS.get(outcome.state, "❔")


def state_label(outcome: StageOutcome) -> str:
    return "skipped" if outcome.skipped else outcome.state


# -- sections ------------------------------------------------------------------------------------------------


def _header(entry: Mapping[str, Any], links: FeedbackLinks, outcomes: list[StageOutcome]) -> list[str]:
    number_ = entry.get("number")
    sha = str(entry.get("head_sha") or "")
    short_sha = f"`{sha[:8]}`" if _HEX_SHA.match(sha) else (text(sha[:12]) if sha else MISSING)
    icon = STATE_ICONS[overall_state(outcomes)]
    _, context, _ = asset_data(entry, "pr_context")
    title = entry.get("title") or context.get(Meta.TITLE)
    ring = entry.get("ring") or context.get(Meta.RING)
    base = entry.get("base") or context.get(Meta.BASE_REF)
    run_status = entry.get("run_status")
    if run_status:
        run = link(text(run_status, 40), links.run_url())
    else:
        reason = entry.get("skipped_reason")
        run = "not run" + (f": {text(reason)}" if reason else " yet")
    lines = [f"### {icon} aither · PR #{text(number_, 20)} · {short_sha}", ""]
    if title:
        lines.append(f"**{text(title)}**")
        lines.append("")
    facts = [f"ring **{text(ring, 60)}**" if ring else f"ring {MISSING}"]
    if base:
        facts.append(f"base {text(base, 120)}")
    head_ref = _head_ref(entry)
    if head_ref:
        facts.append(f"branch {text(head_ref, 120)}")
    facts.append(f"Dagster run: {run}")
    dashboard = links.dashboard_url()
    if dashboard:
        facts.append(link("dashboard", dashboard))
    lines.append(" · ".join(facts))
    return lines


def _head_ref(entry: Mapping[str, Any]) -> str | None:
    _, build, _ = asset_data(entry, "build_artifacts")
    document = build.get(Meta.BUILD_METADATA)
    pr = document.get("pr") if isinstance(document, Mapping) else None
    ref = (pr or {}).get("head_ref") if isinstance(pr, Mapping) else None
    return ref if isinstance(ref, str) and ref else None


def _stages_table(outcomes: list[StageOutcome]) -> list[str]:
    rows = []
    for o in outcomes:
        stage = stages_by_key().get(o.stage)
        name = stage.title if stage else o.context
        result = o.description.removeprefix("skipped: ") if o.skipped else o.description
        rows.append([stage_icon(o), link(text(name), o.target_url), state_label(o), text(result)])
    return ["", md_table(["", "Stage", "State", "Result"], rows)]


def _not_run_line(outcome: StageOutcome | None) -> str:
    if outcome is None:
        return f"_{MISSING}_"
    return f"{stage_icon(outcome)} {text(outcome.description)}"


def _tests_section(entry: Mapping[str, Any], by_key: dict[str, StageOutcome]) -> list[str]:
    lines = ["", "#### Tests"]
    rows: list[list[str]] = []
    failing: list[tuple[str, str, str]] = []
    no_data: list[str] = []
    total_suites = 0
    failing_total = 0
    for stage in (s for s in stages.stage_assets() if s.suite_kind):
        key = stage.key
        status, metadata, _ = asset_data(entry, stage.asset)
        suites = metadata.get(Meta.SUITE_JSON) if status == "MATERIALIZED" else None
        if not isinstance(suites, list):
            outcome = by_key.get(key)
            no_data.append(f"- {stage.title}: {_not_run_line(outcome)}")
            continue
        if not suites:
            no_data.append(f"- {stage.title}: no suite of this kind is declared")
        for suite in suites:
            if not isinstance(suite, Mapping):
                continue
            total_suites += 1
            if len(rows) < MAX_SUITES:
                report = suite.get("report") if isinstance(suite.get("report"), Mapping) else {}
                status_ = str(suite.get("status") or "")
                rows.append([
                    text(suite.get("name", MISSING), 120), text(suite.get("kind", MISSING), 40),
                    SUITE_ICONS.get(status_, text(status_ or MISSING, 40)),
                    number(report.get("tests")), number(report.get("passed")), number(report.get("failed")),
                    number(report.get("errors")), number(report.get("skipped")),
                    seconds(suite.get("duration_seconds")),
                ])
            for failure in suite.get("failures") or ():
                if not isinstance(failure, Mapping):
                    continue
                failing_total += 1
                if len(failing) < MAX_FAILING_TESTS:
                    failing.append((str(suite.get("name", "")), str(failure.get("test", "")),
                                    str(failure.get("message") or "")))
    if rows:
        lines += ["", md_table(["Suite", "Kind", "Status", "Tests", "Passed", "Failed", "Errors", "Skipped",
                                "Duration"], rows)]
        if (cut := more(len(rows), total_suites)):
            lines += ["", f"{cut} suites (see the dashboard)"]
    if no_data:
        lines += [""] + no_data
    if failing:
        lines += ["", f"**{plural(failing_total, 'failing test')}**", ""]
        for suite, test, message in failing:
            item = f"- {text(suite, 120)} · {text(test)}"
            if message:
                item += f": {text(message, MESSAGE_CHARS)}"
            lines.append(item)
        if (cut := more(len(failing), failing_total)):
            lines.append(f"- {cut} failing tests")
    return lines


def _validation_section(entry: Mapping[str, Any]) -> list[str]:
    stage = stages.stage_asset("validation_report")
    errors = check_details(entry, stage.check_key).get("errors")
    if not isinstance(errors, list) or not errors:
        return []
    lines = ["", "#### Validation errors", ""]
    lines += [f"- {text(error, MESSAGE_CHARS + 100)}" for error in errors[:MAX_FINDINGS]]
    if (cut := more(min(len(errors), MAX_FINDINGS), len(errors))):
        lines.append(f"- {cut} errors")
    return lines


def _image_section(entry: Mapping[str, Any], by_key: dict[str, StageOutcome]) -> list[str]:
    lines = ["", "#### Image", ""]
    status, metadata, _ = asset_data(entry, "container_image")
    digest = metadata.get(Meta.DIGEST) if status == "MATERIALIZED" else None
    if not digest:
        return lines + [_not_run_line(by_key.get("image"))]
    lines.append(f"- digest: {code(digest, _DIGEST)}")
    reference = metadata.get(Meta.REFERENCE)
    if reference:
        lines.append(f"- reference: {code(reference, _REFERENCE)}")
    tags = metadata.get(Meta.TAGS)
    if isinstance(tags, list):
        shown = ", ".join(code(str(t), _TAG) for t in tags[:MAX_TAGS]) or "none"
        cut = more(min(len(tags), MAX_TAGS), len(tags))
        lines.append(f"- tags: {shown}" + (f" {cut}" if cut else ""))
    else:
        lines.append(f"- tags: {MISSING}")
    platforms = metadata.get(Meta.PLATFORMS)
    if isinstance(platforms, Mapping) and platforms:
        lines.append(f"- platforms: {', '.join(text(p, 60) for p in sorted(map(str, platforms)))}")
    return lines


def _environment_section(entry: Mapping[str, Any], by_key: dict[str, StageOutcome],
                         deployment: Mapping[str, Any] | None) -> list[str]:
    lines = ["", "#### Environment", ""]
    status, metadata, _ = asset_data(entry, "pr_environment")
    url = metadata.get(Meta.URL) if status == "MATERIALIZED" else None
    if not url:
        lines.append(_not_run_line(by_key.get("environment")))
    else:
        lines.append(f"- URL: {url_text(url)}")
        container = metadata.get(Meta.CONTAINER)
        if container:
            lines.append(f"- container: {code(str(container), _CONTAINER)}")
        digest = metadata.get(Meta.DIGEST)
        if digest:
            lines.append(f"- running: {code(str(digest), _DIGEST)}")
        if metadata.get(Meta.EXPIRES_AT):
            lines.append(f"- expires: {text(metadata[Meta.EXPIRES_AT], 40)}")
    if deployment:
        parts = [f"GitHub deployment {text(deployment.get('environment') or MISSING, 60)}"]
        if deployment.get("id") is not None:
            parts.append(f"#{number(deployment.get('id'))}")
        if deployment.get("state"):
            parts.append(text(deployment["state"], 30))
        lines.append("- " + " ".join(parts))
    return lines


def _smoke_section(entry: Mapping[str, Any], by_key: dict[str, StageOutcome]) -> list[str]:
    lines = ["", "#### Smoke", ""]
    status, metadata, _ = asset_data(entry, "smoke_report")
    if status != "MATERIALIZED":
        return lines + [_not_run_line(by_key.get("smoke"))]
    checks = metadata.get(Meta.CHECKS)
    passed, failed = number(metadata.get(Meta.PASSED)), number(metadata.get(Meta.FAILED))
    line = f"{passed}/{number(checks)} checks passed, {failed} failed"
    if checks == 0:
        line = "no smoke check declared"
    url = metadata.get(Meta.URL)
    if url:
        line += f" against {url_text(url)}"
    lines.append(f"{stage_icon(by_key['smoke'])} {line}" if "smoke" in by_key else line)
    failures = check_details(entry, stages.stage_asset("smoke_report").check_key).get("failures")
    if isinstance(failures, list) and failures:
        lines.append("")
        lines += [f"- {text(f, MESSAGE_CHARS)}" for f in failures[:MAX_SMOKE_FAILURES]]
        if (cut := more(min(len(failures), MAX_SMOKE_FAILURES), len(failures))):
            lines.append(f"- {cut} failed checks")
    return lines


def _promotion_section(entry: Mapping[str, Any]) -> list[str]:
    """Where this PR's build is live and what is pending, ring by ring (entry["promotion"], from the
    instance's ring records: runs/rings.py promotion_ladder). No promotion data: no section."""
    rows = entry.get("promotion")
    if not isinstance(rows, list) or not rows:
        return []
    lines = ["", "#### Promotion", "", "| ring | this PR's build | last attempt |", "|---|---|---|"]
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        state = text(row.get("state") or "not promoted", 60)
        if row.get("soak"):
            state += "; " + text(row.get("soak"), 120)
        last = row.get("last")
        last_text = "—"
        if isinstance(last, Mapping):
            last_text = f"{text(last.get('outcome'), 30)} by {text(last.get('requester'), 60)}"
            gate = last.get("first_unmet")
            if gate:
                last_text += f": {text(gate, MESSAGE_CHARS)}"
        lines.append(f"| {text(row.get('ring'), 40)} | {state} | {last_text} |")
    holds = entry.get("promotion_holds")
    if isinstance(holds, list) and holds:
        lines += ["", *[f"- **Held**: {text(hold, MESSAGE_CHARS)}" for hold in holds[:5]]]
        lines.append("  (release with `aither release unhold N --reason ...` or `/unhold <reason>` by a writer)")
    return lines


def _footer(entry: Mapping[str, Any], links: FeedbackLinks) -> list[str]:
    sha = str(entry.get("head_sha") or "")
    parts = []
    if _HEX_SHA.match(sha):
        parts.append(f"head {sha}")
    run_id = entry.get("run_id")
    if run_id:
        parts.append("run " + link(text(run_id, 80), links.run_url()))
    parts.append("this comment is updated in place on every run")
    return ["", "---", "<sub>aither · " + " · ".join(parts) + "</sub>"]


# -- the comment -----------------------------------------------------------------------------------------------


def render_comment(entry: Mapping[str, Any], links: FeedbackLinks | Mapping[str, Any] | None = None, *,
                   deployment: Mapping[str, Any] | None = None, limit: int = BODY_LIMIT) -> str:
    """The sticky comment for one PR summary entry; starts with :data:`MARKER`."""
    links = FeedbackLinks.of(links)
    outcomes = stage_outcomes(entry, links)
    by_key = {o.stage: o for o in outcomes}
    lines = [MARKER]
    lines += _header(entry, links, outcomes)
    lines += _stages_table(outcomes)
    lines += _validation_section(entry)
    lines += _tests_section(entry, by_key)
    lines += _image_section(entry, by_key)
    lines += _environment_section(entry, by_key, deployment)
    lines += _smoke_section(entry, by_key)
    lines += _promotion_section(entry)
    footer = _footer(entry, links)
    return _fit(lines, footer, limit, links)


def _fit(lines: list[str], footer: list[str], limit: int, links: FeedbackLinks) -> str:
    """Join, cutting whole lines (never inside an escape or a link) when the body would be too long."""
    body = "\n".join(lines + footer) + "\n"
    if len(body) <= limit:
        return body
    dashboard = links.dashboard_url()
    note = "… comment cut to fit GitHub's size limit; " + (
        f"the full report is on the {link('dashboard', dashboard)}" if dashboard else "the full report is in Dagster")
    budget = limit - len("\n".join(footer)) - len(note) - 8
    kept: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(kept + ["", note] + footer) + "\n"
