"""What the automatic promotion sensor reads from the instance and GitHub, as typed values for
release_policy.auto.choose_auto_promotion (which decides; nothing is decided here).

Candidates for a ring: the builds verified in the ring below (by the ring record), and, when the
ring is where some branch enters, the PRs with the newest images. Each gets issue 14's unmet gates
from the same gather() + evaluate() a promotion run uses, with the policy as the requester.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import dagster as dg

from aither_assets.config.operator import RingsConfig
from aither_assets.github.client import GitHubClient, GitHubError
from aither_assets.promotion.gates import evaluate
from aither_assets.promotion.names import AUTO_PROMOTION, POLICY_TAG, RING_TAG, ring_asset_name
from aither_assets.release_policy.auto import AUTO_REQUESTER, AutoDecision, Build, LiveBuild, choose_auto_promotion
from aither_assets.release_policy.events import EventKind, RingEvent
from aither_assets.release_policy.freeze import freeze_at
from aither_assets.release_policy.holds import hold_book
from aither_assets.runs import ring_record
from aither_assets.runs import rings as records
from aither_assets.runs.rollbacks import Launch, promotion_job_name

ENTRY_CANDIDATES = 20  # PRs with the newest images considered for an entry ring per tick (a tick stays short)
IN_FLIGHT = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
             dg.DagsterRunStatus.STARTED]


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def in_flight(instance: dg.DagsterInstance, ring: str) -> str | None:
    """A queued or running promotion of ``ring`` (any requester): its run id, or None."""
    records_ = instance.get_run_records(filters=dg.RunsFilter(tags={RING_TAG: ring}, statuses=IN_FLIGHT), limit=1)
    return records_[0].dagster_run.run_id if records_ else None


def built_at(instance: dg.DagsterInstance, pr: int, digest: str) -> datetime | None:
    """When the control plane recorded ``digest`` as PR ``pr``'s image (its first such record)."""
    times = [at for at, found, _, _ in records.image_history(instance, str(pr)) if found == digest]
    return _utc(min(times)) if times else None


def live_build(instance: dg.DagsterInstance, ring: str) -> LiveBuild | None:
    now = records.live(instance, ring)
    if now is None:
        return None
    return LiveBuild(now.pr, now.digest, built_at(instance, now.pr, now.digest))


def newest_image_prs(instance: dg.DagsterInstance, limit: int = ENTRY_CANDIDATES) -> list[int]:
    """PRs with the newest container_image records, newest first (one entry per PR)."""
    found: list[int] = []
    result = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=records.IMAGE), limit=limit * 5,
                                             ascending=False)
    for record in result.records:
        key = record.partition_key
        if key and key.isdigit() and int(key) not in found:
            found.append(int(key))
        if len(found) >= limit:
            break
    return found


def verified_below(events: list[RingEvent], ring_below: str) -> list[int]:
    """PRs whose build went live verified in ``ring_below``, most recent first."""
    prs: list[int] = []
    for event in reversed(events):
        if event.ring == ring_below and event.kind in (EventKind.PROMOTION, EventKind.ROLLBACK) \
                and event.verified and event.pr not in prs:
            prs.append(event.pr)
    return prs


@dataclass(frozen=True)
class AutoInputs:
    ring: str
    live: LiveBuild | None
    candidates: tuple[Build, ...]
    in_flight: str | None
    skipped: tuple[str, ...]  # PRs that could not be read (GitHub errors), with why: logged, never chosen


def auto_inputs(instance: dg.DagsterInstance, client: GitHubClient, rings: RingsConfig, ring: str,
                events: list[RingEvent], bot: str, now: datetime) -> AutoInputs:
    """Everything choose_auto_promotion needs for ``ring`` except the holds and the freeze (ring-independent)."""
    policy = rings.policy(ring)
    below = rings.below(ring)
    prs = verified_below(events, below) if below else []
    if any(rule.ring == ring for rule in rings.entry):
        prs += [pr for pr in newest_image_prs(instance) if pr not in prs]
    candidates: list[Build] = []
    skipped: list[str] = []
    for pr in prs:
        try:
            gathered = records.gather(instance, client, rings, pr, ring, AUTO_REQUESTER, bot, now.timestamp())
        except GitHubError as exc:
            skipped.append(f"PR #{pr}: GitHub: {exc}")
            continue
        found = gathered.evidence.candidate
        if not found.digest or found.built_at is None:
            skipped.append(f"PR #{pr}: no image recorded")
            continue
        report = evaluate(ring, rings.ladder, policy, gathered.evidence, gathered.history)
        soak_left = timedelta(seconds=report.soak_left) if report.soak_left else None
        candidates.append(Build(pr, found.digest, _utc(found.built_at), report.unmet, soak_left))
    return AutoInputs(ring, live_build(instance, ring), tuple(candidates), in_flight(instance, ring), tuple(skipped))


def decide(instance: dg.DagsterInstance, client: GitHubClient, rings: RingsConfig, ring: str, bot: str,
           now: datetime, events: list[RingEvent] | None = None) -> tuple[AutoDecision, AutoInputs]:
    """The automatic promotion decision for ``ring`` at ``now``, from the record and GitHub."""
    events = ring_record.ring_events(instance, rings.ladder) if events is None else events
    inputs = auto_inputs(instance, client, rings, ring, events, bot, now)
    decision = choose_auto_promotion(ring, rings.policy(ring).auto_promote, inputs.live, inputs.candidates,
                                     hold_book(events), freeze_at(rings.freeze, ring, now), inputs.in_flight)
    return decision, inputs


def auto_promotion_launch(decision: AutoDecision) -> Launch:
    """The promotion run for the decision's chosen build: run key ring+digest, so a tick that comes again
    before the run starts (or after it failed) requests nothing new for the same build."""
    chosen = decision.chosen
    if chosen is None:
        raise ValueError(decision.describe())
    run_config = {"ops": {ring_asset_name(decision.ring): {"config": {"reason": decision.describe()[:500]}}}}
    return Launch(promotion_job_name(decision.ring), str(chosen.pr), run_config, {POLICY_TAG: AUTO_PROMOTION},
                  f"auto-promotion:{decision.ring}:{chosen.digest}")
