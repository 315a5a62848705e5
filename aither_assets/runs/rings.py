"""The promotion evidence the Dagster instance holds: the PR's image and its pipeline run's checks,
its verified presence in each ring, and what is live in each ring (the ``ring_state`` record).

A small reader of our own (issue 13's typed RunSummary reader replaces run_outcome here when it lands).
Everything comes from materializations and observations, never from local files, so it reads the
same on SQLite and on Postgres.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from aither_assets.config.operator import RingsConfig
from aither_assets.github.client import GitHubClient
from aither_assets.github.models import PullRequest
from aither_assets.promotion.gates import Candidate, CheckResult, Evidence, RingPresence
from aither_assets.promotion.names import RING_STATE_ASSET, ring_asset_name
from aither_assets.promotion.requests import Permissions, approvals
from aither_assets.reporting.summary import metadata_json, run_outcome
from aither_assets.runs.ring_record import hold_book_of

# What a promotable build must have passed in its pipeline run (asset:check).
REQUIRED_CHECKS = (
    "validation_report:no_error_findings",
    "unit_tests:all_tests_passed",
    "domain_tests:all_tests_passed",
    "integration_tests:all_tests_passed",
    "smoke_report:smoke_passed",
)
IMAGE = dg.AssetKey("container_image")


@dataclass(frozen=True)
class LiveRecord:
    """What runs in a ring: one observation of ``ring_state`` for that ring."""

    ring: str
    digest: str
    pr: int
    head_sha: str
    since: float
    by: str
    reason: str
    run_id: str
    image_ref: str = ""
    title: str = ""
    kind: str = "promotion"  # or rollback (by a person, or automatic after a failed verification)
    replaced_pr: int | None = None  # a rollback: the PR whose build it replaced (and held)
    break_glass: bool = False

    @classmethod
    def from_metadata(cls, ring: str, metadata: dict[str, Any], at: float, run_id: str) -> "LiveRecord | None":
        try:
            return cls(ring=ring, digest=str(metadata["digest"]), pr=int(metadata["pr"]),
                       head_sha=str(metadata.get("head_sha", "")), since=float(metadata.get("since") or at),
                       by=str(metadata.get("requester", "")), reason=str(metadata.get("reason", "")), run_id=run_id,
                       image_ref=str(metadata.get("image_ref", "")), title=str(metadata.get("title", "")),
                       kind=str(metadata.get("kind") or "promotion"),
                       replaced_pr=int(metadata["replaced_pr"]) if metadata.get("replaced_pr") else None,
                       break_glass=metadata.get("break_glass") is True)
        except (KeyError, TypeError, ValueError):
            return None


def image_history(instance: dg.DagsterInstance, pr: str, limit: int = 50) -> list[tuple[float, str, dict, str]]:
    """(recorded at, digest, metadata, run id) of the PR's images, newest first."""
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=IMAGE, asset_partitions=[pr]), limit=limit, ascending=False).records
    out = []
    for record in records:
        metadata = metadata_json(record.asset_materialization.metadata)
        if metadata.get("digest"):
            out.append((record.timestamp, str(metadata["digest"]), metadata, record.run_id))
    return out


def candidate(instance: dg.DagsterInstance, pr: str) -> tuple[Candidate, tuple[tuple[float, str], ...], str]:
    """The PR's newest image with its pipeline run's check results, the (time, digest) history, and
    the image reference (repository@digest)."""
    history = image_history(instance, pr)
    if not history:
        return Candidate(None, None, None), (), ""
    at, digest, metadata, run_id = history[0]
    checks: list[CheckResult] = []
    run = instance.get_run_by_id(run_id)
    results: dict[str, str] = {}
    details: dict[str, dict] = {}
    if run is not None:
        _, results, details, _ = run_outcome(instance, run)
    for name in REQUIRED_CHECKS:
        state = results.get(name)
        detail = str((details.get(name) or {}).get("description") or "")
        checks.append(CheckResult(name, None if state is None else state == "PASSED", detail))
    reference = str(metadata.get("reference") or "")
    return (Candidate(digest, str(metadata.get("head_sha") or ""), run_id, tuple(checks), at),
            tuple((t, d) for t, d, _, _ in history), reference)


def ring_history(instance: dg.DagsterInstance, ring: str, limit: int = 100) -> list[LiveRecord]:
    """Every deploy recorded for ``ring`` (ring_state observations), newest first."""
    records = instance.fetch_observations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey(RING_STATE_ASSET), asset_partitions=[ring]),
        limit=limit, ascending=False).records
    out = []
    for record in records:
        live = LiveRecord.from_metadata(ring, metadata_json(record.asset_observation.metadata), record.timestamp,
                                        record.run_id)
        if live is not None:
            out.append(live)
    return out


def live(instance: dg.DagsterInstance, ring: str) -> LiveRecord | None:
    """What runs in ``ring`` now: its last ring_state record (one read, no partition scan)."""
    history = ring_history(instance, ring, limit=1)
    return history[0] if history else None


def presence(instance: dg.DagsterInstance, ring: str, pr: str, digest: str | None) -> RingPresence | None:
    """``digest`` of this PR verified in ``ring``: since its latest such deploy, until something replaced it."""
    if not digest:
        return None
    history = ring_history(instance, ring)
    for index, record in enumerate(history):
        if record.digest == digest and str(record.pr) == pr:
            # the record just after it (newer) in a list sorted newest first is the one that replaced it
            newer = history[index - 1] if index > 0 else None
            until = newer.since if newer is not None and newer.digest != digest else None
            return RingPresence(ring, digest, record.since, until, record.run_id)
    return None


def promotions(instance: dg.DagsterInstance, ring: str, pr: str | None = None, limit: int = 50) -> list[dict]:
    """Promotion attempts of ``ring`` (every outcome), newest first: materializations (promoted) and the
    observations of refusals and failed verifications."""
    key = dg.AssetKey(ring_asset_name(ring))
    partitions = [pr] if pr is not None else None
    out = []
    for record in instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=limit, ascending=False).records:
        metadata = metadata_json(record.asset_materialization.metadata)
        out.append({"at": record.timestamp, "run_id": record.run_id, "pr": record.partition_key, **metadata,
                    "outcome": "rolled_back" if metadata.get("outcome") == "rolled_back" else "promoted"})
    for record in instance.fetch_observations(
            dg.AssetRecordsFilter(asset_key=key, asset_partitions=partitions), limit=limit, ascending=False).records:
        metadata = metadata_json(record.asset_observation.metadata)
        if metadata.get("outcome"):
            out.append({"at": record.timestamp, "run_id": record.run_id, "pr": record.partition_key, **metadata})
    return sorted(out, key=lambda item: item["at"], reverse=True)[:limit]


@dataclass(frozen=True)
class Gathered:
    evidence: Evidence
    history: tuple[tuple[float, str], ...]
    image_ref: str
    pull: PullRequest


def gather(instance: dg.DagsterInstance, client: GitHubClient, rings: RingsConfig, number: int, ring: str,
           requester: str, bot: str, now: float) -> Gathered:
    """Everything the gates of ``ring`` look at for PR ``number``: GitHub's PR and comments, the instance's
    image, checks and ring records (the promotion run and ``aither release status`` read the same)."""
    pull = client.pull(number)
    found, history, image_ref = candidate(instance, str(number))
    below_ring = rings.below(ring) if ring in rings.ladder else None
    below = presence(instance, below_ring, str(number), found.digest) if below_ring else None
    evidence = Evidence(
        pr=number, pr_author=pull.author, pr_head_sha=pull.head_sha, merged=pull.merged,
        entry_ring=rings.entry_ring(pull.base_ref), candidate=found, below=below,
        approvals=approvals(client, number, rings.ladder, ignore={bot}, permissions=Permissions(client)),
        requester=requester, now=now)
    return Gathered(evidence, history, image_ref, pull)


OUTCOME_STATUS = {"refused": "refused", "verification_failed": "verification failed, ring put back"}


def _automatic_rollbacks(instance: dg.DagsterInstance, ring: str, attempts: list[dict], limit: int) -> list[dict]:
    """Rollbacks recorded only in ring_state (after a failed verification), as attempt rows; a rollback run by a
    person or the re-verification policy materializes the ring asset and is among ``attempts`` already."""
    materialized = {a.get("run_id") for a in attempts if a.get("outcome") == "rolled_back"}
    return [{"at": r.since, "run_id": r.run_id, "pr": str(r.pr), "outcome": "rolled_back", "digest": r.digest,
             "head_sha": r.head_sha, "requester": r.by, "reason": r.reason, "title": r.title}
            for r in ring_history(instance, ring, limit=limit) if r.kind == "rollback" and r.run_id not in materialized]


def ring_page_entries(instance: dg.DagsterInstance, ring: str, limit: int = 50,
                      pending: dict | None = None, ladder: tuple[str, ...] | None = None) -> list[dict]:
    """The ring page's rows (dashboard/render.py: render_ring_page), newest first: what runs now, then every
    earlier attempt with its requester, reason, approvals and evidence, rollbacks and holds among them. Only
    recorded figures. ``ladder``: the rings whose rollbacks count for holds (default: this ring's only).
    ``pending``: the row of the running step's materialization (it lands after the step; its observations,
    ring_state's among them, are in the instance already)."""
    current = live(instance, ring)
    book = hold_book_of(instance, ladder or (ring,))
    rows = []
    attempts = promotions(instance, ring, limit=limit)
    if pending is not None:
        attempts.append(pending)
    attempts += _automatic_rollbacks(instance, ring, attempts, limit)
    attempts.sort(key=lambda a: a["at"], reverse=True)
    for attempt in attempts:
        outcome = attempt.get("outcome")
        digest = attempt.get("digest") or None
        number = int(attempt["pr"]) if str(attempt.get("pr", "")).isdigit() else None
        held = digest is not None and number is not None and book.is_held(pr=number, digest=digest)
        if outcome in ("promoted", "rolled_back"):
            is_live = current is not None and current.run_id == attempt.get("run_id") and current.digest == digest
            if outcome == "promoted":
                status = "live" if is_live else "held" if held else "replaced"
            else:
                status = "live (rolled back to)" if is_live else "rolled back to, replaced"
        else:
            status = OUTCOME_STATUS.get(str(outcome), str(outcome))
            if outcome == "verification_failed" and held:
                status = "verification failed, rolled back, held"
        checks = attempt.get("checks") if isinstance(attempt.get("checks"), dict) else {}
        passed = sum(1 for v in checks.values() if v is True)
        by = attempt.get("requester") or None
        if attempt.get("break_glass") is True and by:
            by = f"{by} (break-glass)"
        rows.append({
            "number": number,
            "title": attempt.get("title") or None,
            "digest": digest, "head_sha": attempt.get("head_sha") or None,
            "promoted_at": datetime.fromtimestamp(attempt["at"], UTC).isoformat(timespec="seconds"),
            "promoted_by": by, "reason": attempt.get("reason") or None,
            "approvals": ", ".join(str(a.get("login")) for a in attempt.get("approvals") or []) or "none",
            "evidence": (f"run {str(attempt.get('pipeline_run'))[:8]}: {passed} of {len(checks)} checks passed"
                         if checks else None),
            "status": status,
        })
    # what runs now first (the template shows the first row as "Running now")
    rows.sort(key=lambda r: not str(r["status"]).startswith("live"))
    return rows


def promotion_ladder(instance: dg.DagsterInstance, pr: str, ladder: tuple[str, ...]) -> list[dict]:
    """This PR's place on the ladder for its sticky comment: per ring, whether its build is live there
    (or was), and its last attempt there with the first unmet gate or the failed check."""
    rows = []
    for ring in ladder:
        now = live(instance, ring)
        attempts = promotions(instance, ring, pr=pr, limit=5)
        promoted = next((a for a in attempts if a.get("outcome") == "promoted"), None)
        if now is not None and str(now.pr) == pr:
            state = f"live since {datetime.fromtimestamp(now.since, UTC).isoformat(timespec='seconds')}"
        elif promoted is not None:
            state = "was live (replaced)"
        else:
            state = "not promoted"
        last = None
        if attempts:
            attempt = attempts[0]
            gates = attempt.get("unmet_gates") or []
            first = (f"{gates[0].get('gate')}: {gates[0].get('reason')}" if gates and isinstance(gates[0], dict)
                     else attempt.get("failed_check") or None)
            last = {"outcome": attempt.get("outcome"), "requester": attempt.get("requester"), "first_unmet": first}
        rows.append({"ring": ring, "state": state, "last": last})
    return rows
