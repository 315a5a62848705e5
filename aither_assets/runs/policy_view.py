"""What people see of the release policy (``aither release status`` and ``metrics``, the ring pages, the
PR's sticky comment): soak left per candidate, approvals a new digest voided, and the delivery figures,
read from the ring record (runs/ring_record.py) and GitHub and computed by release_policy/.
Plain JSON-ready dicts; a figure without data is None (shown as missing), never 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Iterable

import dagster as dg

from aither_assets.config.operator import RingsConfig
from aither_assets.github.client import GitHubClient, GitHubError
from aither_assets.promotion.gates import Approval, approval_digest
from aither_assets.release_policy.approvals import ApprovalRecord, approval_standing
from aither_assets.release_policy.events import EventKind, RingEvent
from aither_assets.release_policy.metrics import delivery_metrics
from aither_assets.release_policy.rollback import live_record
from aither_assets.release_policy.soak import Soak, presence, soak_status
from aither_assets.runs import ring_record
from aither_assets.runs import rings as records


def soak_of(events: list[RingEvent], rings: RingsConfig, ring: str, digest: str | None,
            now: datetime) -> Soak | None:
    """The soak of ``digest`` in the ring below ``ring`` toward ``ring`` (None: lowest ring, or no digest)."""
    below = rings.below(ring) if ring in rings.ladder else None
    if below is None or not digest:
        return None
    required = timedelta(seconds=rings.policy(ring).soak_seconds)
    return soak_status(below, presence(events, below, digest), required, now)


def soak_json(soak: Soak | None) -> dict | None:
    if soak is None:
        return None
    return {"ring_below": soak.ring_below, "required_seconds": soak.required.total_seconds(),
            "started": soak.started, "elapsed_seconds": round(soak.elapsed.total_seconds(), 1),
            "left_seconds": round(soak.left.total_seconds(), 1), "done": soak.done,
            "stopped_at": soak.stopped_at.isoformat() if soak.stopped_at else None, "text": soak.describe()}


def voided_approvals(approvals: Iterable[Approval], history: tuple[tuple[float, str], ...], ring: str,
                     digest: str | None) -> list[dict]:
    """Approvals for ``ring`` that a newer build voided (approval_standing), oldest first."""
    found = []
    for approval in approvals:
        if approval.ring != ring:
            continue
        found.append(ApprovalRecord(approval.login, ring, approval_digest(approval, history) or "",
                                    datetime.fromtimestamp(approval.at, UTC)))
    standing = approval_standing(found, digest)
    return [{"login": v.approval.login, "digest": v.approval.digest or None,
             "at": v.approval.at.isoformat(timespec="seconds"), "reason": v.reason} for v in standing.voided]


def ring_candidates(instance: dg.DagsterInstance, rings: RingsConfig, ring: str, events: list[RingEvent],
                    now: datetime, limit: int = 10) -> list[dict]:
    """Builds verified in the ring below and not live in ``ring``, with their soak: for the ring page."""
    below = rings.below(ring)
    if below is None:
        return []
    live = records.live(instance, ring)
    out, seen = [], set()
    for event in reversed(events):
        if event.ring != below or event.kind not in (EventKind.PROMOTION, EventKind.ROLLBACK) or not event.verified:
            continue
        if event.digest in seen or (live is not None and live.digest == event.digest):
            continue
        seen.add(event.digest)
        soak = soak_of(events, rings, ring, event.digest, now)
        out.append({"pr": event.pr, "digest": event.digest, "soak": soak_json(soak)})
        if len(out) >= limit:
            break
    return out


def first_commit_times(client: GitHubClient | None, prs: Iterable[int]) -> tuple[dict[int, datetime], list[str]]:
    """PR -> its first commit time (GitHub); PRs GitHub could not answer for are left out and named."""
    times: dict[int, datetime] = {}
    errors: list[str] = []
    for pr in sorted(set(prs)):
        if client is None:
            break
        try:
            first = client.first_commit_at(pr)
        except GitHubError as exc:
            errors.append(f"PR #{pr}: {exc}")
            continue
        if first is not None:
            times[pr] = first
    return times, errors


def metrics_json(events: list[RingEvent], ladder: tuple[str, ...], days: float, now: datetime,
                 client: GitHubClient | None) -> dict:
    """``aither release metrics --json``: every ring's four figures over the last ``days`` days."""
    start = now - timedelta(days=days)
    # lead time counts a PR's first go-live in the window: only those PRs' first commits are asked for
    prs = [e.pr for e in events if e.kind is EventKind.PROMOTION and e.ring in ladder and e.at >= start]
    first_commits, errors = first_commit_times(client, prs)
    figures = delivery_metrics(events, ladder, start, now, first_commits)
    out = {"start": start.isoformat(), "end": now.isoformat(), "days": days,
           "rings": [m.as_json() for m in figures]}
    for ring in out["rings"]:
        live = live_record(events, ring["ring"])
        ring["live_verified"] = None if live is None else live.verified
    if errors:
        out["github_errors"] = errors
    return out


def instance_metrics(instance: dg.DagsterInstance, ladder: tuple[str, ...], days: float, now: datetime,
                     client: GitHubClient | None) -> dict:
    return metrics_json(ring_record.ring_events(instance, ladder), ladder, days, now, client)


def _shown(value: float | None, unit: str, scale: float = 1.0, digits: int = 1) -> str | None:
    return None if value is None else f"{value / scale:.{digits}f} {unit}"


def figures_for_page(ring_json: dict) -> dict[str, str | None]:
    """A ring's metrics (RingMetrics.as_json) as the ring page shows them; None is shown as missing."""
    rate = ring_json["change_failure_rate"]
    lead, p90 = ring_json["lead_time_median_seconds"], ring_json["lead_time_p90_seconds"]
    return {
        "deployment frequency": _shown(ring_json["deployment_frequency_per_day"], "per day", digits=2),
        "lead time (median)": _shown(lead, "h", 3600),
        "lead time (p90)": _shown(p90, "h", 3600),
        "change failure rate": None if rate is None else
        f"{rate * 100:.0f} % ({ring_json['rollbacks']} of {ring_json['promotions']})",
        "time to restore (median)": _shown(ring_json["time_to_restore_median_seconds"], "min", 60),
    }


def ring_page_extras(instance: dg.DagsterInstance, rings: RingsConfig, client: GitHubClient | None,
                     now: datetime, only: Iterable[str] | None = None, days: float = 30) -> dict[str, dict]:
    """Per ring (every ring, or ``only``): the ring page's candidates with their soak and the ring's delivery
    figures over the last ``days`` days. One read of the record and of GitHub for all of them."""
    events = ring_record.ring_events(instance, rings.ladder)
    wanted = tuple(ring for ring in rings.ladder if only is None or ring in set(only))
    result = metrics_json(events, wanted, days, now, client)
    return {figures["ring"]: {"candidates": ring_candidates(instance, rings, figures["ring"], events, now),
                              "figures": figures_for_page(figures), "figures_days": days}
            for figures in result["rings"]}


def with_soak(rows: list[dict], instance: dg.DagsterInstance, rings: RingsConfig, pr: str,
              now: datetime, events: list[RingEvent]) -> list[dict]:
    """The sticky comment's promotion rows (runs/rings.py promotion_ladder) with the soak of the PR's
    current build toward each ring it is not live in yet (``soak``: one line, or absent). ``events``:
    the ring record (ring_record.ring_events)."""
    digest = records.candidate(instance, pr)[0].digest
    if not digest:
        return rows
    for row in rows:
        ring = row.get("ring")
        if ring not in rings.ladder or str(row.get("state", "")).startswith("live"):
            continue
        soak = soak_of(events, rings, ring, digest, now)
        if soak is not None and soak.required > timedelta(0):
            row["soak"] = soak.describe()
    return rows
