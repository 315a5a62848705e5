"""The ring record as typed events (release_policy/events.py), read from the Dagster instance and
written to it. One place knows how each event is stored:

- ``ring_state`` observations (partition = ring): a deploy. ``kind`` promotion or rollback, with the
  digest, PR, requester, reason, ``verified``, ``break_glass`` and, for a rollback, what it replaced.
- the ring asset's observations (partition = PR) with ``outcome``: ``verification_failed`` (``phase``
  deploy: the post-deploy verification, so the build went live unverified first; ``phase`` reverify:
  a periodic re-verification of what is live) and ``reverified``.
- ``container_image`` observations (partition = PR) with ``hold_action`` hold or unhold: a hold on the
  PR's build, visible in the UI on the build itself.

Everything else (holds, the last good digest, soak, metrics) is computed from these events by
release_policy/, so it reads the same on SQLite and Postgres and nothing is stored twice.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Iterable

import dagster as dg

from aither_assets.promotion.names import RING_STATE_ASSET, ring_asset_name
from aither_assets.release_policy.events import EventKind, RingEvent
from aither_assets.reporting.summary import metadata_json

IMAGE = dg.AssetKey("container_image")
HOLD_ACTIONS = ("hold", "unhold")
LIMIT = 10_000  # records read per asset; a ring with more history than this reads its newest


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _observations(instance: dg.DagsterInstance, key: dg.AssetKey, partitions: list[str] | None = None):
    return instance.fetch_observations(dg.AssetRecordsFilter(asset_key=key, asset_partitions=partitions),
                                       limit=LIMIT, ascending=True).records


def deploy_events(instance: dg.DagsterInstance, ring: str) -> list[RingEvent]:
    """Promotions and rollbacks of ``ring`` (ring_state), oldest first."""
    out = []
    for record in _observations(instance, dg.AssetKey(RING_STATE_ASSET), [ring]):
        meta = metadata_json(record.asset_observation.metadata)
        pr, digest = _int(meta.get("pr")), str(meta.get("digest") or "")
        if pr is None or not digest:
            continue
        kind = EventKind.ROLLBACK if meta.get("kind") == "rollback" else EventKind.PROMOTION
        replaced_pr, replaced_digest = _int(meta.get("replaced_pr")), str(meta.get("replaced_digest") or "") or None
        if kind is EventKind.ROLLBACK and (replaced_pr is None or replaced_digest is None):
            replaced_pr = replaced_digest = None
        out.append(RingEvent(kind, pr, digest, _at(meta.get("since") or record.timestamp),
                             str(meta.get("requester") or ""), str(meta.get("reason") or ""), ring,
                             verified=meta.get("verified", True) is not False,
                             replaced_pr=replaced_pr if kind is EventKind.ROLLBACK else None,
                             replaced_digest=replaced_digest if kind is EventKind.ROLLBACK else None,
                             break_glass=meta.get("break_glass") is True))
    return out


def verification_events(instance: dg.DagsterInstance, ring: str) -> list[RingEvent]:
    """Verification outcomes recorded on the ring asset's PR partitions, oldest first. A failed
    post-deploy verification means the build went live unverified, then failed: two events."""
    out = []
    for record in _observations(instance, dg.AssetKey(ring_asset_name(ring))):
        meta = metadata_json(record.asset_observation.metadata)
        outcome, digest, pr = meta.get("outcome"), str(meta.get("digest") or ""), _int(record.partition_key)
        if outcome not in ("verification_failed", "reverified") or not digest or pr is None:
            continue
        at, who, reason = _at(record.timestamp), str(meta.get("requester") or ""), str(meta.get("failed_check") or "")
        if outcome == "reverified":
            out.append(RingEvent(EventKind.REVERIFIED, pr, digest, at, who, "", ring, verified=True))
            continue
        if meta.get("phase", "deploy") == "deploy":
            out.append(RingEvent(EventKind.PROMOTION, pr, digest, at, who, str(meta.get("reason") or ""), ring,
                                 verified=False, break_glass=meta.get("break_glass") is True))
        out.append(RingEvent(EventKind.VERIFICATION_FAILED, pr, digest, at, who, reason, ring))
    return out


def hold_events(instance: dg.DagsterInstance) -> list[RingEvent]:
    """Holds and unholds by hand (or by the policy when nothing could be rolled back), oldest first."""
    out = []
    for record in _observations(instance, IMAGE):
        meta = metadata_json(record.asset_observation.metadata)
        action, pr = meta.get("hold_action"), _int(record.partition_key)
        if action not in HOLD_ACTIONS or pr is None:
            continue
        out.append(RingEvent(EventKind.HOLD if action == "hold" else EventKind.UNHOLD, pr,
                             str(meta.get("digest") or "") or None, _at(record.timestamp),
                             str(meta.get("requester") or ""), str(meta.get("reason") or ""),
                             str(meta.get("ring") or "") or None))
    return out


def ring_events(instance: dg.DagsterInstance, ladder: Iterable[str]) -> list[RingEvent]:
    """The whole record (every ring, every hold), oldest first: what release_policy/ computes from."""
    events: list[RingEvent] = hold_events(instance)
    for ring in ladder:
        events += deploy_events(instance, ring) + verification_events(instance, ring)
    return sorted(events, key=lambda event: event.at)


def hold_observation(pr: int, digest: str | None, action: str, requester: str, reason: str,
                     ring: str | None = None) -> dg.AssetObservation:
    """A hold or unhold of PR ``pr``'s build (``digest``; None: every build of the PR), on container_image."""
    if action not in HOLD_ACTIONS:
        raise ValueError(f"hold action must be one of {HOLD_ACTIONS}, not {action!r}")
    return dg.AssetObservation(asset_key=IMAGE, partition=str(pr), metadata={
        "hold_action": action, "digest": digest or "", "requester": requester, "reason": reason,
        "ring": ring or ""})


def deploy_observation(ring: str, kind: str, *, pr: int, digest: str, head_sha: str, since: float,
                       requester: str, reason: str, image_ref: str, title: str, url: str,
                       replaced_pr: int | None, replaced_digest: str | None, verified: bool = True,
                       break_glass: bool = False) -> dg.AssetObservation:
    """What ``ring`` serves from now on (ring_state): a promotion, or a rollback and what it replaced."""
    if kind not in ("promotion", "rollback"):
        raise ValueError(f"deploy kind must be promotion or rollback, not {kind!r}")
    return dg.AssetObservation(asset_key=RING_STATE_ASSET, partition=ring, metadata={
        "kind": kind, "digest": digest, "pr": pr, "head_sha": head_sha, "since": since, "requester": requester,
        "reason": reason, "image_ref": image_ref, "title": title[:200], "url": dg.MetadataValue.url(url),
        "verified": verified, "break_glass": break_glass,
        "replaced_pr": replaced_pr if replaced_pr is not None else 0, "replaced_digest": replaced_digest or "",
        "previous_digest": replaced_digest or ""})


VERIFICATION_OUTCOMES = ("reverified", "verification_failed")


def reverification_observation(ring: str, pr: int, digest: str, outcome: str, requester: str,
                               failed_check: str = "", verification: dict | None = None) -> dg.AssetObservation:
    """A periodic re-verification of what ``ring`` serves (PR ``pr``'s ``digest``), on the ring asset's PR
    partition: ``reverified``, or ``verification_failed`` (which revokes "verified" for that ring and digest)."""
    if outcome not in VERIFICATION_OUTCOMES:
        raise ValueError(f"verification outcome must be one of {VERIFICATION_OUTCOMES}, not {outcome!r}")
    metadata: dict[str, Any] = {"outcome": outcome, "phase": "reverify", "ring": ring, "digest": digest,
                                "requester": requester, "failed_check": failed_check[:600]}
    if verification is not None:
        metadata["verification"] = dg.MetadataValue.json(verification)
    return dg.AssetObservation(asset_key=dg.AssetKey(ring_asset_name(ring)), partition=str(pr), metadata=metadata)
