"""``aither release``: status, promote, approve, rollback, hold, unhold, trace, metrics.

``promote``, ``approve``, ``rollback``, ``hold`` and ``unhold`` act as the person running them: they post
the PR comment (``/promote``, ``/approve``, ``/rollback``, ``/hold``, ``/unhold``) with the person's own
GitHub token ($AITHER_USER_TOKEN), never the control plane's. ``rollback`` posts on the PR it goes back
to (``--to``), else on the PR live in the ring (the one being rolled back from).
The comment is the request: the webhook receiver (or the comment sensor) checks its author's
permission with GitHub and submits the run through the webserver's GraphQL API, and the run checks
the comment again. So a request from the CLI, from GitHub's web page or from a phone is one path,
with one place that proves identity. ``--wait`` follows the run the comment started.

``status`` and ``trace`` read the Dagster instance ($DAGSTER_HOME) and GitHub; ``--json`` prints
what they show as JSON. Every error is one line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import click

USER_TOKEN_ENV = "AITHER_USER_TOKEN"


def _iso(at: float | None) -> str | None:
    return datetime.fromtimestamp(at, UTC).isoformat(timespec="seconds") if at else None


class Context:
    def __init__(self, config_path: Path):
        from aither_assets.config.operator import load_operator_config

        self.config = load_operator_config(config_path)
        self._instance = None

    @property
    def instance(self):
        if self._instance is None:
            import dagster as dg

            self._instance = dg.DagsterInstance.get()
        return self._instance

    def reader(self):
        """A GitHub client to read with: the person's token if set, else the control plane's."""
        from aither_assets.github.client import GitHubClient, client_from_config

        token = os.environ.get(USER_TOKEN_ENV)
        if token:
            return GitHubClient.connect(self.config.github.api_url, self.config.repository, token=token)
        return client_from_config(self.config, os.environ)

    def person(self):
        from aither_assets.github.client import GitHubClient

        token = os.environ.get(USER_TOKEN_ENV)
        if not token:
            raise click.ClickException(f"${USER_TOKEN_ENV} is not set: promote and approve act with your own "
                                       "GitHub token (never the control plane's)")
        return GitHubClient.connect(self.config.github.api_url, self.config.repository, token=token)

    def ring(self, ring: str) -> str:
        if ring not in self.config.rings.ladder:
            raise click.ClickException(f"--ring/--to: unknown ring {ring!r}; the rings are "
                                       f"{', '.join(self.config.rings.ladder)}")
        return ring


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)


@click.group()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="AITHER_CONFIG",
              required=True, help="Operator config (default: $AITHER_CONFIG).")
@click.pass_context
def release(ctx: click.Context, config_path: Path) -> None:
    """Promote PR builds through the rings; see what is live where and why."""
    from aither_assets.config import ConfigError

    try:
        ctx.obj = Context(config_path)
    except ConfigError as exc:
        raise click.ClickException(str(exc.issues[0]) if exc.issues else str(exc)) from None


def ring_status(context: Context, client, me: str) -> list[dict]:
    """Each ring: what is live, and the next candidate (what is live in the ring below) with its gates."""
    from aither_assets.promotion.gates import evaluate
    from aither_assets.runs import ring_record
    from aither_assets.runs import rings as records
    from aither_assets.runs.policy_view import soak_json, soak_of, voided_approvals

    rings = context.config.rings
    bot = client.authenticated_login() if os.environ.get(USER_TOKEN_ENV) is None else ""
    events = ring_record.ring_events(context.instance, rings.ladder)
    now = datetime.now(UTC)
    out = []
    for ring in rings.ladder:
        live = records.live(context.instance, ring)
        entry: dict = {"ring": ring, "port": rings.port(ring), "live": None, "candidate": None}
        if live is not None:
            entry["live"] = {"digest": live.digest, "pr": live.pr, "title": live.title, "since": _iso(live.since),
                             "by": live.by, "reason": live.reason, "run_id": live.run_id}
        below = rings.below(ring)
        below_live = records.live(context.instance, below) if below else None
        if below_live is not None and (live is None or below_live.digest != live.digest):
            gathered = records.gather(context.instance, client, rings, below_live.pr, ring, me, bot, time.time())
            report = evaluate(ring, rings.ladder, rings.policy(ring), gathered.evidence, gathered.history)
            digest = gathered.evidence.candidate.digest
            entry["candidate"] = {
                "pr": below_live.pr, "digest": digest, "soak_left_seconds":
                    round(report.soak_left, 1) if report.soak_left is not None else None,
                "soak": soak_json(soak_of(events, rings, ring, digest, now)),
                "voided_approvals": voided_approvals(gathered.evidence.approvals, gathered.history, ring, digest),
                "unmet_gates": [{"gate": g.gate, "reason": g.reason} for g in report.unmet]}
        out.append(entry)
    return out


@release.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def status(context: Context, as_json: bool) -> None:
    """Each ring: live digest, PR, title, since; the next candidate's soak left and unmet gates."""
    from aither_assets.promotion.gates import UNAUTHENTICATED

    try:
        client = context.reader()
        me = client.authenticated_login() if os.environ.get(USER_TOKEN_ENV) else UNAUTHENTICATED
        rings = ring_status(context, client, me)
    except Exception as exc:  # noqa: BLE001 - one line, whatever failed
        raise _fail(exc) from None
    held = hold_status(context)
    if as_json:
        click.echo(json.dumps({"rings": rings, "holds": held}, indent=2))
        return
    for entry in rings:
        live = entry["live"]
        head = (f"{entry['ring']:<11} {live['digest'][:19]}  PR #{live['pr']} {live['title'][:40]!r} since "
                f"{live['since']} by {live['by']}") if live else f"{entry['ring']:<11} (nothing live)"
        click.echo(head)
        candidate = entry["candidate"]
        if candidate:
            gates = candidate["unmet_gates"]
            soak = candidate["soak_left_seconds"]
            click.echo(f"{'':<11} next: PR #{candidate['pr']} {str(candidate['digest'])[:19]}"
                       + (f", soak left {soak:.0f} s" if soak else "")
                       + (": every gate met" if not gates else f": {len(gates)} unmet gate(s)"))
            if candidate["soak"]:
                click.echo(f"{'':<13}soak: {candidate['soak']['text']}")
            for gate in gates:
                click.echo(f"{'':<13}- {gate['gate']}: {gate['reason']}")
            for voided in candidate["voided_approvals"]:
                click.echo(f"{'':<13}voided approval by {voided['login']} at {voided['at']}: {voided['reason']}")
    click.echo(f"holds: {len(held)}" if held else "holds: none")
    for hold in held:  # reasons may quote a failed check's text: no control characters reach the terminal
        click.echo("  " + "".join(ch if ch.isprintable() else "?" for ch in hold["text"]))


def _figure(value, unit: str = "", scale: float = 1.0, digits: int = 1) -> str:
    """A figure for the text table; None (no data) is shown as missing, never as 0."""
    return "—" if value is None else f"{value / scale:.{digits}f}{unit}"


@release.command()
@click.option("--days", default=30.0, show_default=True, type=click.FloatRange(min=0, min_open=True),
              help="The window: the last N days.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a figure without data is null).")
@click.pass_obj
def metrics(context: Context, days: float, as_json: bool) -> None:
    """Per ring, from the ring record alone: deployment frequency, lead time (first commit -> live), change
    failure rate (rollbacks / promotions), time to restore (failed verification -> verified again)."""
    from aither_assets.runs.policy_view import instance_metrics

    try:
        result = instance_metrics(context.instance, context.config.rings.ladder, days, datetime.now(UTC),
                                  context.reader())
    except Exception as exc:  # noqa: BLE001 - one line, whatever failed
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    click.echo(f"{result['start'][:19]} .. {result['end'][:19]} UTC ({days:g} days); — means no data")
    click.echo(f"{'ring':<11} {'deploys/day':>11} {'lead median':>12} {'lead p90':>10} {'failure rate':>12} "
               f"{'restore median':>14}")
    for ring in result["rings"]:
        rate = ring["change_failure_rate"]
        click.echo(f"{ring['ring']:<11} {_figure(ring['deployment_frequency_per_day'], '', 1, 2):>11} "
                   f"{_figure(ring['lead_time_median_seconds'], ' h', 3600):>12} "
                   f"{_figure(ring['lead_time_p90_seconds'], ' h', 3600):>10} "
                   f"{_figure(None if rate is None else rate * 100, ' %', 1, 0):>12} "
                   f"{_figure(ring['time_to_restore_median_seconds'], ' min', 60):>14}")
    for error in result.get("github_errors", []):
        click.echo(f"note: first commit unknown for {error}")


def hold_status(context: Context) -> list[dict]:
    """The holds in force, oldest first (release_policy's hold book over the instance's record)."""
    from aither_assets.runs import ring_record

    book = ring_record.hold_book_of(context.instance, context.config.rings.ladder)
    return [{"pr": h.pr, "digest": h.digest, "since": h.since.isoformat(timespec="seconds"), "by": h.by,
             "reason": h.reason, "ring": h.ring, "source": h.source, "text": h.describe()} for h in book.active]


def _wait_for_run(context: Context, comment_id: int, timeout: float, pr: int | None = None) -> dict:
    """The run the comment started, once finished; or the control plane's reply when it started none."""
    import dagster as dg

    from aither_assets.promotion.names import COMMAND_COMMENT_TAG

    deadline = time.monotonic() + timeout
    checked = 0.0
    while time.monotonic() < deadline:
        records = context.instance.get_run_records(
            filters=dg.RunsFilter(tags={COMMAND_COMMENT_TAG: str(comment_id)}), limit=1)
        if records and records[0].dagster_run.is_finished:
            run = records[0].dagster_run
            return {"run_id": run.run_id, "status": run.status.value}
        if pr is not None and not records and time.monotonic() - checked > 2:
            checked = time.monotonic()
            reply = _reply_to(context, pr, comment_id)
            if reply is not None:
                raise click.ClickException(f"no run started: {reply}")
        time.sleep(0.2)
    raise click.ClickException(f"no finished run for comment {comment_id} after {timeout:.0f} s "
                               "(is the webhook receiver or the comment sensor running?)")


def _reply_to(context: Context, pr: int, comment_id: int) -> str | None:
    """The control plane's reply to a comment (its first line after the marker), if there is one yet."""
    from aither_assets.promotion.requests import REPLY_MARKER

    marker = REPLY_MARKER.format(id=int(comment_id))
    for comment in context.reader().comments(pr):
        if comment.body.startswith(marker):
            return " ".join(comment.body[len(marker):].split())
    return None


def _command_line(context: Context, line: str) -> str:
    """``line`` if it parses as the command it should be, else a one-line error about the reason."""
    from aither_assets.promotion.commands import MAX_REASON, parse_line

    parsed = parse_line(line, context.config.rings.ladder)
    if parsed is None or isinstance(parsed, str):
        raise click.ClickException(f"--reason: printable text of at most {MAX_REASON} characters, on one line"
                                   + (f" ({parsed})" if isinstance(parsed, str) else ""))
    return line


def _post(context: Context, pr: int, line: str):
    try:
        return context.person().create_comment(pr, line)
    except click.ClickException:
        raise
    except Exception as exc:  # noqa: BLE001
        raise _fail(exc) from None


def _follow(context: Context, pr: int, comment, wait: bool, timeout: float) -> None:
    click.echo(f"requested: {comment.html_url or comment.id}")
    if wait:
        outcome = _wait_for_run(context, comment.id, timeout, pr)
        click.echo(f"run {outcome['run_id']}: {outcome['status']}")
        if outcome["status"] != "SUCCESS":
            sys.exit(1)


@release.command()
@click.argument("pr", type=click.IntRange(min=1))
@click.option("--to", "ring", required=True, help="The ring to promote to.")
@click.option("--reason", required=True, help="Why (recorded with the promotion).")
@click.option("--break-glass", "break_glass", is_flag=True,
              help="Promote into a frozen ring (repository admins only; recorded as break-glass).")
@click.option("--wait", "wait", is_flag=True, help="Wait for the run and exit 1 unless it succeeded.")
@click.option("--timeout", default=600.0, show_default=True)
@click.pass_obj
def promote(context: Context, pr: int, ring: str, reason: str, break_glass: bool, wait: bool,
            timeout: float) -> None:
    """Ask for PR's build to go to RING: posts `/promote RING [--break-glass] REASON` on the PR as you."""
    from aither_assets.promotion.commands import BREAK_GLASS_FLAG

    ring = context.ring(ring)
    reason = " ".join(reason.split())
    line = _command_line(context, " ".join(
        part for part in ("/promote", ring, BREAK_GLASS_FLAG if break_glass else "", reason) if part))
    _follow(context, pr, _post(context, pr, line), wait, timeout)


@release.command()
@click.argument("ring")
@click.option("--to", "to_pr", type=click.IntRange(min=1), default=None,
              help="The PR whose build to go back to (default: the last good build of RING).")
@click.option("--reason", required=True, help="Why (recorded with the rollback).")
@click.option("--wait", "wait", is_flag=True, help="Wait for the run and exit 1 unless it succeeded.")
@click.option("--timeout", default=600.0, show_default=True)
@click.pass_obj
def rollback(context: Context, ring: str, to_pr: int | None, reason: str, wait: bool, timeout: float) -> None:
    """Put RING back on its last good build (or PR's, with --to): posts `/rollback RING [#PR] REASON` as you, on
    that PR, or on the PR live in RING. No rebuild; the build it replaces is held."""
    from aither_assets.runs import rings as records

    ring = context.ring(ring)
    reason = " ".join(reason.split())
    line = _command_line(context, f"/rollback {ring} " + (f"#{to_pr} " if to_pr else "") + reason)
    on = to_pr
    if on is None:
        live = records.live(context.instance, ring)
        if live is None:
            raise click.ClickException(f"nothing is live in {ring}: nothing to roll back")
        on = live.pr
    _follow(context, on, _post(context, on, line), wait, timeout)


def _hold_command(context: Context, verb: str, pr: int, reason: str, wait: bool, timeout: float) -> None:
    line = _command_line(context, f"/{verb} " + " ".join(reason.split()))
    comment = _post(context, pr, line)
    click.echo(f"requested: {comment.html_url or comment.id}")
    if not wait:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = _reply_to(context, pr, comment.id)
        if reply is not None:
            click.echo(reply)
            if "recorded:" not in reply:
                sys.exit(1)
            return
        time.sleep(0.5)
    raise click.ClickException(f"no answer to comment {comment.id} after {timeout:.0f} s "
                               "(is the webhook receiver or the comment sensor running?)")


@release.command()
@click.argument("pr", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why (recorded with the hold).")
@click.option("--wait", "wait", is_flag=True, help="Wait for the answer and exit 1 unless it was recorded.")
@click.option("--timeout", default=120.0, show_default=True)
@click.pass_obj
def hold(context: Context, pr: int, reason: str, wait: bool, timeout: float) -> None:
    """Hold every build of PR: it is promoted to no ring until unheld. Posts `/hold REASON` on the PR as you."""
    _hold_command(context, "hold", pr, reason, wait, timeout)


@release.command()
@click.argument("pr", type=click.IntRange(min=1))
@click.option("--reason", required=True, help="Why (recorded with the release of the hold).")
@click.option("--wait", "wait", is_flag=True, help="Wait for the answer and exit 1 unless it was recorded.")
@click.option("--timeout", default=120.0, show_default=True)
@click.pass_obj
def unhold(context: Context, pr: int, reason: str, wait: bool, timeout: float) -> None:
    """Release PR's holds (a writer's). Posts `/unhold REASON` on the PR as you."""
    _hold_command(context, "unhold", pr, reason, wait, timeout)


@release.command()
@click.argument("pr", type=click.IntRange(min=1))
@click.option("--ring", required=True, help="The ring the approval is for.")
@click.pass_obj
def approve(context: Context, pr: int, ring: str) -> None:
    """Approve PR's current build for RING: posts `/approve RING <digest>` on the PR as you (the digest
    named, so the approval is for exactly the build you looked at)."""
    from aither_assets.runs import rings as records

    ring = context.ring(ring)
    found, _, _ = records.candidate(context.instance, str(pr))
    if not found.digest:
        raise click.ClickException(f"PR #{pr} has no image recorded: nothing to approve")
    try:
        comment = context.person().create_comment(pr, f"/approve {ring} {found.digest}")
    except Exception as exc:  # noqa: BLE001
        raise _fail(exc) from None
    click.echo(f"approved {found.digest[:19]} of PR #{pr} for {ring}: {comment.html_url or comment.id}")


def lineage(instance, rings: tuple[str, ...], target: str) -> dict:
    """digest -> PR, head, pipeline run and its checks, and every promotion ring by ring (ValueError: none)."""
    from aither_assets.runs import rings as records

    digest = target
    if target in rings:
        live = records.live(instance, target)
        if live is None:
            raise ValueError(f"nothing is live in {target}")
        digest = live.digest
    elif not target.startswith("sha256:"):
        raise ValueError(f"{target!r}: give a ring ({', '.join(rings)}) or a digest (sha256:...)")
    attempts = []
    for ring in rings:
        for attempt in records.promotions(instance, ring):
            if str(attempt.get("digest", "")).startswith(digest):
                attempts.append({"ring": ring, "at": _iso(attempt["at"]), "pr": attempt.get("pr"),
                                 "outcome": attempt.get("outcome"), "requester": attempt.get("requester"),
                                 "reason": attempt.get("reason"), "approvals": attempt.get("approvals") or [],
                                 "run_id": attempt.get("run_id"), "digest": attempt.get("digest"),
                                 "unmet_gates": attempt.get("unmet_gates") or []})
    if not attempts:
        raise ValueError(f"no promotion of {digest} is recorded")
    attempts.sort(key=lambda a: a["at"])
    pr = attempts[0]["pr"]
    full = next((a["digest"] for a in attempts if a.get("digest")), digest)
    evidence = None
    for at, recorded, metadata, run_id in records.image_history(instance, str(pr)):
        if recorded == full:
            from aither_assets.reporting.summary import run_outcome

            run = instance.get_run_by_id(run_id)
            checks = run_outcome(instance, run)[1] if run else {}
            evidence = {"head_sha": metadata.get("head_sha"), "pipeline_run": run_id, "built_at": _iso(at),
                        "checks": checks}
            break
    live_in = [ring for ring in rings if (records.live(instance, ring) or _Nothing).digest == full]
    return {"digest": full, "pr": int(pr) if pr else None, "build": evidence, "live_in": live_in,
            "promotions": attempts}


class _Nothing:
    digest = None


@release.command()
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_obj
def trace(context: Context, target: str, as_json: bool) -> None:
    """The lineage of a ring's live build (RING) or of a digest: PR, head, pipeline evidence, promotions."""
    try:
        result = lineage(context.instance, context.config.rings.ladder, target)
    except Exception as exc:  # noqa: BLE001 - one line, whatever failed
        raise _fail(exc) from None
    if as_json:
        click.echo(json.dumps(result, indent=2))
        return
    build = result["build"] or {}
    click.echo(f"{result['digest']}  PR #{result['pr']}  head {str(build.get('head_sha'))[:12]}  "
               f"pipeline run {build.get('pipeline_run')}  live in: {', '.join(result['live_in']) or 'none'}")
    for name, state in sorted((build.get("checks") or {}).items()):
        click.echo(f"  check {name}: {state}")
    for attempt in result["promotions"]:
        approvals = ", ".join(a.get("login", "?") for a in attempt["approvals"]) or "none"
        click.echo(f"  {attempt['at']}  {attempt['ring']:<10} {attempt['outcome']:<20} by {attempt['requester']} "
                   f"({attempt['reason']!r}); approvals: {approvals}")
