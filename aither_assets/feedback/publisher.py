"""Publish one PR's feedback to GitHub: a status (or check run) per stage and ONE sticky comment.

Never raises because of GitHub: every call is retried by the client, and whatever
still fails is listed in the :class:`FeedbackReport`, so the pipeline's main work
never fails because GitHub is down. Publishing is idempotent and reconciling: the
next run finds the comment by its marker (on any page), updates it in place,
deletes duplicates an earlier crash or race left behind, and only writes what changed.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Literal, Mapping, TypeVar

from aither_assets.feedback.comment import MARKER, link, render_comment
from aither_assets.feedback.stages import RUN_GOING, StageOutcome, stage_outcomes
from aither_assets.github.client import GitHubClient, GitHubError, GitHubRateLimited
from aither_assets.github.models import Comment
from aither_assets.links import FeedbackLinks, http_url_or_none
from aither_assets.markdown import md_escape

log = logging.getLogger(__name__)

CommentAction = Literal["created", "updated", "unchanged", "failed"]
DEPLOYMENT_STATES = ("queued", "in_progress", "success", "failure", "error")
MAX_CONSECUTIVE_OUTAGES = 3  # after this many unavailable answers in a row, stop calling GitHub this time

T = TypeVar("T")


@dataclass
class FeedbackReport:
    statuses_set: int = 0  # statuses (or check runs) written this time
    comment_id: int | None = None
    comment_action: CommentAction = "failed"
    errors: list[str] = field(default_factory=list)
    requests: int = 0  # logical GitHub requests made (retries not counted)
    statuses_unchanged: int = 0  # already right on GitHub: not written again
    comments_deleted: int = 0  # duplicate marker comments removed
    mode: Literal["statuses", "check_runs"] = "statuses"

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_metadata(self) -> dict[str, Any]:
        """Plain values for Dagster asset metadata."""
        data = asdict(self)
        data["errors"] = "\n".join(self.errors) or "none"
        return data


class _Failed:
    def __repr__(self) -> str:
        return "FAILED"


FAILED: Any = _Failed()


class _Calls:
    """Runs GitHub calls, records failures, and stops calling a GitHub that is not answering."""

    def __init__(self, report: FeedbackReport):
        self.report = report
        self.outages = 0
        self.stopped_by: str | None = None
        self.skipped: list[str] = []
        self.last_error: GitHubError | None = None

    def __call__(self, action: str, call: Callable[[], T]) -> T | Any:
        if self.stopped_by is not None:
            self.skipped.append(action)
            return FAILED
        try:
            value = call()
        except GitHubRateLimited as exc:
            self._record(action, exc)
            self.stopped_by = "GitHub's rate limit"
            return FAILED
        except GitHubError as exc:
            self._record(action, exc)
            if exc.status is None or exc.status >= 500 or exc.status == 429:
                self.outages += 1
                if self.outages >= MAX_CONSECUTIVE_OUTAGES:
                    self.stopped_by = f"{self.outages} consecutive failures (GitHub unavailable)"
            return FAILED
        except Exception as exc:  # noqa: BLE001 - e.g. a malformed SHA; feedback must not fail the run
            self.last_error = None
            self.report.errors.append(f"{action}: {type(exc).__name__}: {exc}")
            return FAILED
        self.outages = 0
        self.last_error = None
        return value

    def _record(self, action: str, exc: GitHubError) -> None:
        self.last_error = exc
        self.report.errors.append(str(exc))

    def finish(self) -> None:
        if self.skipped:
            self.report.errors.append(
                f"skipped {len(self.skipped)} GitHub call(s) after {self.stopped_by}: "
                + ", ".join(self.skipped[:5]) + (" …" if len(self.skipped) > 5 else "")
                + "; the next run reconciles")


def publish_feedback(client: GitHubClient, entry: Mapping[str, Any],
                     links: FeedbackLinks | Mapping[str, Any] | None = None, *,
                     use_check_runs: bool = False, deployment: Mapping[str, Any] | None = None) -> FeedbackReport:
    """Statuses (or check runs) per stage on the head SHA, then the sticky comment upserted.

    ``use_check_runs`` needs a GitHub App installation token; with any other token
    GitHub refuses check runs (403) and commit statuses are published instead.
    ``deployment`` (``{"id", "environment", "state"}``, e.g. from :func:`record_deployment`)
    is only shown in the comment.
    """
    report = FeedbackReport(mode="check_runs" if use_check_runs else "statuses")
    start = client.requests_made
    calls = _Calls(report)
    try:
        links = FeedbackLinks.of(links)
        number = int(entry["number"])
        sha = str(entry.get("head_sha") or "")
        outcomes = stage_outcomes(entry, links)
        body = render_comment(entry, links, deployment=deployment)
    except Exception as exc:  # noqa: BLE001 - a malformed entry must not fail the pipeline either
        log.exception("PR feedback not rendered")
        report.errors.append(f"feedback not rendered: {type(exc).__name__}: {exc}")
        return report

    if use_check_runs:
        if not _publish_check_runs(client, entry, sha, outcomes, links, calls, report):
            report.mode = "statuses"
            _publish_statuses(client, sha, outcomes, calls, report)
    else:
        _publish_statuses(client, sha, outcomes, calls, report)
    _upsert_comment(client, number, body, calls, report)

    calls.finish()
    report.requests = client.requests_made - start
    for error in report.errors:
        log.warning("PR #%s feedback: %s", number, error)
    return report


# -- commit statuses -----------------------------------------------------------------------------------


def _publish_statuses(client: GitHubClient, sha: str, outcomes: list[StageOutcome], calls: _Calls,
                      report: FeedbackReport) -> None:
    combined = calls("read combined status", lambda: client.combined_status(sha))
    current = {} if combined is FAILED else {s.get("context"): s for s in (combined or {}).get("statuses") or []}
    for outcome in outcomes:
        existing = current.get(outcome.context)
        if existing and _same_status(existing, outcome):
            report.statuses_unchanged += 1
            continue
        result = calls(f"set status {outcome.context}", lambda o=outcome: client.set_status(
            sha, o.state, o.context, o.description, o.target_url))
        if result is not FAILED:
            report.statuses_set += 1


def _same_status(existing: Mapping[str, Any], outcome: StageOutcome) -> bool:
    return (existing.get("state") == outcome.state
            and (existing.get("description") or "") == outcome.description[:140]
            and (existing.get("target_url") or None) == (outcome.target_url or None))


APPROVAL_CONTEXT = "aither/approval"
#: Approval statuses one sensor tick writes at most (GitHub paces writes; a tick has 60 s).
MAX_APPROVAL_STATUSES = 20


def publish_approval_states(client: GitHubClient, waiting: list[tuple[str, str]], approved: list[tuple[str, str]],
                            limit: int = MAX_APPROVAL_STATUSES) -> list[str]:
    """A status on fork heads: pending while a writer's approval is missing (with why), success once a
    writer approved the head that runs. ``waiting``/``approved``: (head SHA, description). Returns the
    errors; never raises (the sensor's tick goes on), and what did not fit waits for the head's next change."""
    errors: list[str] = []
    items = [(sha, "pending", why) for sha, why in waiting] + [(sha, "success", why) for sha, why in approved]
    for sha, state, description in items[:limit]:
        try:
            client.set_status(sha, state, APPROVAL_CONTEXT, description)
        except GitHubError as exc:
            errors.append(f"set status {APPROVAL_CONTEXT} on {sha[:8]}: {exc}")
            if isinstance(exc, GitHubRateLimited):
                break
    if len(items) > limit:
        errors.append(f"{len(items) - limit} approval status(es) left for a later tick (at most {limit} per tick)")
    return errors


# -- check runs -----------------------------------------------------------------------------------------------


def _publish_check_runs(client: GitHubClient, entry: Mapping[str, Any], sha: str, outcomes: list[StageOutcome],
                        links: FeedbackLinks, calls: _Calls, report: FeedbackReport) -> bool:
    """Create or update one check run per stage; False when GitHub refuses check runs to this token."""
    runs = calls("list check runs", lambda: client.check_runs(sha))
    if runs is FAILED:
        # Creating blind would duplicate every check run: leave them for the next run to reconcile.
        report.errors.append("check runs not published: the existing ones could not be listed")
        return True
    ours = client.app_id
    by_name: dict[str, dict] = {}
    for run in sorted(runs, key=lambda r: int(r.get("id") or 0)):
        if ours is None or (run.get("app") or {}).get("id") in (None, ours):
            by_name[str(run.get("name"))] = run  # the newest run of a name wins
    first_write = True
    for outcome in outcomes:
        fields = _check_run_fields(entry, outcome, links)
        existing = by_name.get(outcome.context)
        if existing is not None and _same_check_run(existing, fields):
            report.statuses_unchanged += 1
            continue
        if existing is not None:
            result = calls(f"update check run {outcome.context}",
                           lambda e=existing, f=fields: client.update_check_run(int(e["id"]), **f))
        else:
            rest = {key: value for key, value in fields.items() if key != "status"}
            result = calls(f"create check run {outcome.context}", lambda o=outcome, f=fields, r=rest:
                           client.create_check_run(sha, o.context, f["status"], **r))
        if result is FAILED:
            error = calls.last_error
            if first_write and error is not None and error.status in (401, 403) \
                    and not isinstance(error, GitHubRateLimited):
                report.errors.append("check runs need a GitHub App installation token: "
                                     "published commit statuses instead")
                return False
        else:
            report.statuses_set += 1
        first_write = False
    return True


_CONCLUSIONS = {"success": "success", "failure": "failure", "error": "failure"}


def _check_run_fields(entry: Mapping[str, Any], outcome: StageOutcome, links: FeedbackLinks) -> dict[str, Any]:
    summary = [md_escape(outcome.description)]
    for label, url in (("Dagster run", links.run_url()), ("PR dashboard", links.dashboard_url())):
        if url:
            summary.append(link(label, url))
    fields: dict[str, Any] = {"output": {"title": outcome.description or outcome.state,
                                         "summary": "\n\n".join(summary)}}
    if http_url_or_none(outcome.target_url):
        fields["details_url"] = outcome.target_url
    if outcome.state == "pending":
        fields["status"] = "in_progress" if entry.get("run_status") in RUN_GOING else "queued"
    else:
        fields["status"] = "completed"
        if outcome.skipped:
            fields["conclusion"] = "skipped"
        elif outcome.not_run:
            fields["conclusion"] = "cancelled"
        else:
            fields["conclusion"] = _CONCLUSIONS[outcome.state]
    return fields


def _same_check_run(existing: Mapping[str, Any], fields: Mapping[str, Any]) -> bool:
    output = existing.get("output") or {}
    return (existing.get("status") == fields["status"]
            and (fields["status"] != "completed" or existing.get("conclusion") == fields.get("conclusion"))
            and output.get("title") == fields["output"]["title"]
            and output.get("summary") == fields["output"]["summary"]
            and (existing.get("details_url") or None) == fields.get("details_url"))


# -- the sticky comment -------------------------------------------------------------------------------------------


def is_marker_comment(body: str) -> bool:
    return body.lstrip().startswith(MARKER)


def _same_body(current: str, new: str) -> bool:
    # GitHub may hand back CRLF line ends or drop a trailing newline.
    return current.replace("\r\n", "\n").rstrip() == new.replace("\r\n", "\n").rstrip()


def update_sticky_comment(client: GitHubClient, entry: Mapping[str, Any],
                          links: FeedbackLinks | Mapping[str, Any] | None = None) -> FeedbackReport:
    """Only the sticky comment, rendered again from ``entry`` (a promotion changes the comment, not the
    head's statuses). Never raises."""
    report = FeedbackReport(mode="comment")
    calls = _Calls(report)
    try:
        body = render_comment(entry, FeedbackLinks.of(links))
        _upsert_comment(client, int(entry["number"]), body, calls, report)
    except Exception as exc:  # noqa: BLE001 - a comment is not worth a failed promotion
        report.errors.append(f"sticky comment not updated: {type(exc).__name__}: {exc}")
    calls.finish()
    return report


def _upsert_comment(client: GitHubClient, number: int, body: str, calls: _Calls, report: FeedbackReport) -> None:
    login = calls("identify the authenticated user", client.authenticated_login)
    if login is FAILED:
        return
    comments = calls(f"list comments of #{number}", lambda: client.comments(number))
    if comments is FAILED:
        return
    ours: list[Comment] = sorted((c for c in comments if c.author == login and is_marker_comment(c.body)),
                                 key=lambda c: c.id)
    if not ours:
        created = calls(f"comment on #{number}", lambda: client.create_comment(number, body))
        if created is not FAILED:
            report.comment_id, report.comment_action = created.id, "created"
        return
    keep, duplicates = ours[0], ours[1:]
    report.comment_id = keep.id
    if _same_body(keep.body, body):
        report.comment_action = "unchanged"
    else:
        updated = calls(f"update comment {keep.id}", lambda: client.update_comment(keep.id, body))
        report.comment_action = "failed" if updated is FAILED else "updated"
    for duplicate in duplicates:
        if calls(f"delete duplicate comment {duplicate.id}",
                 lambda c=duplicate: client.delete_comment(c.id)) is not FAILED:
            report.comments_deleted += 1


# -- deployments ------------------------------------------------------------------------------------------------------


def environment_name(pr_number: int) -> str:
    return f"pr-{int(pr_number)}"


def record_deployment(client: GitHubClient, pr_number: int, sha: str, environment_url: str | None, state: str, *,
                      log_url: str | None = None, description: str = "") -> int | None:
    """Record the PR's preview on GitHub: the deployment of ``sha`` to ``pr-<N>`` gets a ``state`` status.

    The deployment is created once per (environment, SHA) and reused for later states
    (in_progress, then success or failure). Returns its id, or None when GitHub failed
    (logged; never raised: a preview must not fail because GitHub is down).
    """
    if state not in DEPLOYMENT_STATES:
        raise ValueError(f"deployment state {state!r} is not one of {', '.join(DEPLOYMENT_STATES)}")
    environment = environment_name(pr_number)
    try:
        existing = [d for d in client.deployments(environment) if d.get("sha") == sha]
        if existing:
            deployment_id = max(int(d["id"]) for d in existing)
        else:
            created = client.create_deployment(
                sha, environment, description=f"preview of PR #{int(pr_number)} at {sha[:8]}", transient=True,
                production=False, payload={"pr": int(pr_number), "sha": sha})
            deployment_id = int(created["id"])
        client.set_deployment_status(deployment_id, state, environment_url=http_url_or_none(environment_url),
                                     log_url=http_url_or_none(log_url), description=description)
        return deployment_id
    except GitHubError as exc:
        log.warning("PR #%s deployment %s not recorded: %s", pr_number, state, exc)
        return None


def deactivate_deployments(client: GitHubClient, pr_number: int) -> int:
    """Mark every deployment of ``pr-<N>`` inactive (teardown); how many were marked. Never raises."""
    environment = environment_name(pr_number)
    try:
        deployments = client.deployments(environment)
    except GitHubError as exc:
        log.warning("PR #%s deployments not listed for teardown: %s", pr_number, exc)
        return 0
    done = 0
    for deployment in deployments:
        try:
            client.set_deployment_status(int(deployment["id"]), "inactive", description="preview torn down")
            done += 1
        except GitHubError as exc:
            log.warning("PR #%s deployment %s not marked inactive: %s", pr_number, deployment.get("id"), exc)
    return done
