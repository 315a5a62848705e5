"""The demo's promotion scenario: PR comments by the seeded people, on the product's own path
(local GitHub -> issue_comment webhook -> receiver -> GraphQL -> queued promotion run).

PR #1 goes dev -> staging -> ring-0 (ring-0 needs one approval: the seeded maintainer's); a request
for ring-0 with only the author's own approval is refused with its unmet gates; the ``ring-flag``
PR passes its pipeline but fails its verification in dev, which goes back to PR #1's digest (an
automatic rollback: ring-flag is held); a ``/approve`` by someone without write permission gets a reply.

Recovery (issue 16): the ``canary-flag`` PR (it enters at ring-0) fails its verification in ring-0,
which is rolled back automatically to PR #1 and the build held; ``health-detail`` enters staging and a
maintainer's ``/rollback staging`` puts staging back on PR #1 (health-detail held); ring-1 is frozen
by a dated window (Pacific/Auckland) around the demo's start, so PR #1's promotion to ring-1 is
refused naming it, and the seeded admin's ``/promote ring-1 --break-glass`` goes ahead, recorded as
break-glass. Then ring-2, which promotes automatically, takes PR #1's build by itself once it has
soaked in ring-1 (nobody asks).
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from aither_assets.devstack.demo.seed import ADMIN, AUTHOR, MAINTAINER, OUTSIDER, Seeded
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.promotion.names import COMMAND_COMMENT_TAG
from aither_assets.promotion.requests import REPLY_MARKER
from aither_assets.release_policy.auto import AUTO_REQUESTER

# Short soaks so the demo shows the gate without waiting an hour.
DEMO_POLICIES = {
    "dev": {"approvals": 0},
    "staging": {"approvals": 0, "soak_seconds": 1},
    "ring-0": {"approvals": 1, "soak_seconds": 2},
    "ring-1": {"approvals": 1, "soak_seconds": 5},
    # ring-2 takes builds automatically (issue 16): the newest build verified in ring-1, once it soaked 3 s there
    "ring-2": {"approvals": 0, "soak_seconds": 3, "auto_promote": True},
    "production": {"approvals": 2, "soak_seconds": 5},
}


@dataclass(frozen=True)
class Step:
    """One request of the scenario and what it should come to."""

    name: str
    pr_name: str
    ring: str
    requester: str
    reason: str
    expect: str  # SUCCESS | FAILURE
    approvals_before: tuple[str, ...] = ()
    kind: str = "promote"  # or rollback: ``/rollback <ring> <reason>``, posted on the PR named by pr_name
    break_glass: bool = False
    wait_before: float = 0  # seconds, e.g. for a soak in the ring below

    def comment(self) -> str:
        if self.kind == "rollback":
            return f"/rollback {self.ring} {self.reason}"
        return f"/promote {self.ring} " + ("--break-glass " if self.break_glass else "") + self.reason


STEPS = (
    Step("PR #1 to dev", "items-pagination", "dev", MAINTAINER, "first build of the pagination change", "SUCCESS"),
    Step("PR #1 to staging", "items-pagination", "staging", MAINTAINER, "dev looks fine", "SUCCESS"),
    Step("PR #1 to ring-0, approved by its own author only", "items-pagination", "ring-0", AUTHOR,
         "canary, please", "FAILURE", approvals_before=(AUTHOR,)),
    Step("PR #1 to ring-0, approved by the maintainer", "items-pagination", "ring-0", AUTHOR,
         "canary with a second pair of eyes", "SUCCESS", approvals_before=(MAINTAINER,)),
    Step("ring-flag PR to dev (fails its verification in the ring)", "ring-flag", "dev", MAINTAINER,
         "try the new landing page", "FAILURE"),
    Step("canary-flag PR to ring-0 (fails its verification: rolled back automatically, held)", "canary-flag",
         "ring-0", AUTHOR, "canary the landing page", "FAILURE", approvals_before=(MAINTAINER,)),
    Step("health-detail PR to staging (its entry ring)", "health-detail", "staging", MAINTAINER,
         "report the version", "SUCCESS"),
    Step("manual rollback of staging", "health-detail", "staging", MAINTAINER,
         "the version on /health leaks build details", "SUCCESS", kind="rollback"),
    Step("PR #1 to ring-1 during its freeze window", "items-pagination", "ring-1", AUTHOR, "next ring, please",
         "FAILURE", approvals_before=(MAINTAINER,), wait_before=5),
    Step("PR #1 to ring-1, break-glass by an admin", "items-pagination", "ring-1", ADMIN,
         "customer fix cannot wait for the freeze", "SUCCESS", break_glass=True),
)
FREEZE_WINDOW, FREEZE_ZONE, FROZEN_RING = "demo-freeze", "Pacific/Auckland", "ring-1"


def demo_freeze(now: datetime | None = None) -> dict:
    """ring-1 frozen by a dated window on Auckland's clock from an hour before ``now`` to six hours after."""
    local = (now or datetime.now(UTC)).astimezone(ZoneInfo(FREEZE_ZONE)).replace(tzinfo=None, second=0,
                                                                                  microsecond=0)
    return {"rollbacks_allowed": True, "rings": {FROZEN_RING: {"dated": [{
        "name": FREEZE_WINDOW, "time_zone": FREEZE_ZONE,
        "start": (local - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M"),
        "end": (local + timedelta(hours=6)).strftime("%Y-%m-%d %H:%M")}]}}}


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ring_policies(start: int = 19100) -> dict:
    """The demo's policies, each ring on a port of the first block of free ones from ``start``."""
    count = len(DEMO_POLICIES)
    base = next(b for b in range(start, start + 2000, 10) if all(_free(b + i) for i in range(count)))
    return {ring: {**policy, "port": base + i} for i, (ring, policy) in enumerate(DEMO_POLICIES.items())}


def _wait_for_run(instance: dg.DagsterInstance, comment_id: int, deadline: float) -> dg.DagsterRun:
    while True:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={COMMAND_COMMENT_TAG: str(comment_id)}), limit=1)
        if runs and runs[0].is_finished:
            return runs[0]
        if time.monotonic() > deadline:
            raise TimeoutError(f"no finished promotion run for comment {comment_id}")
        time.sleep(0.5)


def run_scenario(data_dir: Path, seeded: Seeded, instance: dg.DagsterInstance, deadline: float) -> dict:
    owner, name = seeded.repository.split("/")
    numbers = {p.name: p.number for p in seeded.prs}
    store = LocalGitHub(data_dir / "github")
    steps = []
    try:
        first = numbers["items-pagination"]
        ignored = store.create_comment(owner, name, first, "/approve ring-0", user=OUTSIDER)["id"]
        for step in STEPS:
            number = numbers[step.pr_name]
            time.sleep(2.1 + step.wait_before)  # past the soak below, and whole GitHub seconds after the last build
            for approver in step.approvals_before:
                store.create_comment(owner, name, number, f"/approve {step.ring}", user=approver)
            time.sleep(1.05)
            comment = store.create_comment(owner, name, number, step.comment(), user=step.requester)["id"]
            run = _wait_for_run(instance, comment, deadline)
            steps.append({"step": step.name, "pr": number, "ring": step.ring, "requester": step.requester,
                          "kind": step.kind, "comment_id": comment, "run_id": run.run_id,
                          "partition": run.tags.get("dagster/partition"), "run_status": run.status.value,
                          "expected": step.expect})
        marker = REPLY_MARKER.format(id=ignored)
        replies = [c["body"] for c in store.list_comments(owner, name, first) if c["body"].startswith(marker)]
    finally:
        store.close()
    return {"steps": steps, "ignored_comment": {"by": OUTSIDER, "replies": replies}}


def promotion_summary(instance: dg.DagsterInstance, ladder: tuple[str, ...]) -> list[dict]:
    """Every promotion attempt, oldest first: PR, ring, digest, outcome, unmet gates, requester, approvals."""
    from aither_assets.runs import rings as records

    attempts = []
    for ring in ladder:
        for attempt in records.promotions(instance, ring):
            attempts.append({
                "pr": int(attempt["pr"]), "ring": ring, "digest": attempt.get("digest"),
                "outcome": attempt.get("outcome"), "unmet_gates": attempt.get("unmet_gates") or [],
                "requester": attempt.get("requester"), "reason": attempt.get("reason"),
                "approvals": [a.get("login") for a in attempt.get("approvals") or []],
                "failed_check": attempt.get("failed_check"), "restored_digest": attempt.get("restored_digest"),
                "break_glass": attempt.get("break_glass") is True, "replaced_digest": attempt.get("replaced_digest"),
                "run_id": attempt.get("run_id"), "at": attempt["at"]})
    return sorted(attempts, key=lambda a: a["at"])


def rollback_summary(instance: dg.DagsterInstance, ladder: tuple[str, ...]) -> dict:
    """``rollbacks``: every rollback in the ring record (by a person or automatic), oldest first;
    ``holds``: the holds in force (release_policy's hold book over the same record)."""
    from aither_assets.release_policy.events import EventKind
    from aither_assets.runs import ring_record

    events = ring_record.ring_events(instance, ladder)
    rollbacks = [{"ring": e.ring, "pr": e.pr, "digest": e.digest, "replaced_pr": e.replaced_pr,
                  "replaced_digest": e.replaced_digest, "requester": e.requester, "reason": e.reason,
                  "verified": e.verified, "at": e.at.isoformat()} for e in events if e.kind is EventKind.ROLLBACK]
    book = ring_record.hold_book_of(instance, ladder)
    holds = [{"pr": h.pr, "digest": h.digest, "by": h.by, "reason": h.reason, "ring": h.ring, "source": h.source,
              "since": h.since.isoformat()} for h in book.active]
    return {"rollbacks": rollbacks, "holds": holds}


def live_rings(instance: dg.DagsterInstance, ladder: tuple[str, ...], app: str) -> dict:
    """Per ring: the ring_state record and what its container really runs (read from Docker)."""
    from aither_assets.environments.ring_env import RingEnvironments
    from aither_assets.runs import rings as records

    envs = RingEnvironments(app=app)
    out = {}
    for ring in ladder:
        record = records.live(instance, ring)
        running = envs.current(ring)
        out[ring] = {"recorded_digest": record.digest if record else None, "recorded_pr": record.pr if record else None,
                     "running_digest": running.digest if running else None,
                     "running_pr": running.pr if running else None}
    return out


def remove_rings(ladder: tuple[str, ...], app: str) -> list[str]:
    from aither_assets.environments.ring_env import RingEnvironments

    envs = RingEnvironments(app=app)
    return [ring for ring in ladder if envs.remove_ring(ring)]


def promotion_problems(summary: dict, seeded: Seeded) -> list[str]:
    """How the promotion scenario differs from what it should show."""
    problems = []
    promotion = summary.get("promotion_scenario") or {}
    for step in promotion.get("steps", []):
        if step["run_status"] != step["expected"]:
            problems.append(f"promotion '{step['step']}': run {step['run_status']}, expected {step['expected']}")
    if len(promotion.get("steps", [])) != len(STEPS):
        problems.append(f"promotion scenario ran {len(promotion.get('steps', []))} of {len(STEPS)} steps")
    attempts = summary.get("promotions", [])
    first = next(p.number for p in seeded.prs if p.name == "items-pagination")
    flag = next(p.number for p in seeded.prs if p.name == "ring-flag")
    promoted = [a["ring"] for a in attempts if a["pr"] == first and a["outcome"] == "promoted"
                and a["requester"] != AUTO_REQUESTER]  # people's promotions; the policy's are checked apart
    if promoted != ["dev", "staging", "ring-0", "ring-1"]:
        problems.append(f"PR #{first} was promoted to {promoted}, expected dev, staging, ring-0, ring-1")
    refused = [a for a in attempts if a["pr"] == first and a["outcome"] == "refused" and a["ring"] == "ring-0"]
    reasons = " ".join(g["reason"] for a in refused for g in a["unmet_gates"])
    if not refused or "ignored: the PR's author" not in reasons or "0 of 1 approval" not in reasons:
        problems.append(f"no ring-0 refusal for a missing approval and the author's self-approval: {refused}")
    failed = [a for a in attempts if a["pr"] == flag and a["outcome"] == "verification_failed"]
    dev = summary.get("rings", {}).get("dev", {})
    first_digest = next((a["digest"] for a in attempts if a["pr"] == first and a["ring"] == "dev"
                         and a["outcome"] == "promoted"), None)
    if not failed or "smoke /" not in (failed[0].get("failed_check") or ""):
        problems.append(f"the ring-flag PR's verification failure in dev is not recorded: {failed}")
    if not first_digest or dev.get("running_digest") != first_digest or dev.get("recorded_digest") != first_digest:
        problems.append(f"dev should be back on PR #{first}'s digest {first_digest}: {dev}")
    trace = summary.get("trace") or {}
    if trace.get("pr") != first or [p["ring"] for p in trace.get("promotions", []) if p["outcome"] == "promoted"
                                     and p.get("requester") != AUTO_REQUESTER] != ["dev", "staging", "ring-0",
                                                                                   "ring-1"]:
        problems.append(f"the trace of ring-0 does not lead back to PR #{first} through dev and staging")
    if not promotion.get("ignored_comment", {}).get("replies"):
        problems.append("the outsider's /approve got no reply")
    return problems + recovery_problems(summary, seeded, first_digest)


def recovery_problems(summary: dict, seeded: Seeded, first_digest: str | None) -> list[str]:
    """Issue 16's part of the scenario: automatic and manual rollbacks, holds, the freeze and break-glass."""
    from aither_assets.release_policy.rollback import AUTO_ROLLBACK_REQUESTER

    problems = []
    number = {p.name: p.number for p in seeded.prs}
    first = number["items-pagination"]
    rollbacks = summary.get("rollbacks") or []
    held = {h["pr"] for h in summary.get("holds") or []}

    def rolled_back(ring: str, replaced: int, requester: str) -> bool:
        return any(r["ring"] == ring and r["pr"] == first and r["digest"] == first_digest and r["verified"]
                   and r["replaced_pr"] == replaced and r["requester"] == requester for r in rollbacks)

    if not rolled_back("dev", number["ring-flag"], AUTO_ROLLBACK_REQUESTER):
        problems.append(f"dev was not rolled back automatically from ring-flag to PR #{first}: {rollbacks}")
    if not rolled_back("ring-0", number["canary-flag"], AUTO_ROLLBACK_REQUESTER):
        problems.append(f"ring-0 was not rolled back automatically from canary-flag to PR #{first}: {rollbacks}")
    if not rolled_back("staging", number["health-detail"], MAINTAINER):
        problems.append(f"staging was not rolled back by {MAINTAINER} from health-detail to PR #{first}: {rollbacks}")
    for ring in ("ring-0", "staging"):
        running = summary.get("rings", {}).get(ring, {})
        if not first_digest or running.get("running_digest") != first_digest or \
                running.get("recorded_digest") != first_digest:
            problems.append(f"{ring} should be back on PR #{first}'s digest {first_digest}: {running}")
    for name in ("ring-flag", "canary-flag", "health-detail"):
        if number[name] not in held:
            problems.append(f"the {name} PR (#{number[name]}) should be held: holds {sorted(held)}")
    if first in held:
        problems.append(f"PR #{first} is held, but only the builds rolled back from should be")
    attempts = [a for a in summary.get("promotions", []) if a["pr"] == first and a["ring"] == FROZEN_RING]
    frozen = [g["reason"] for a in attempts if a["outcome"] == "refused" for g in a["unmet_gates"]
              if g["gate"] == "frozen"]
    if not frozen or f"'{FREEZE_WINDOW}' ({FREEZE_ZONE})" not in frozen[0]:
        problems.append(f"PR #{first}'s promotion to {FROZEN_RING} was not refused naming the freeze: {attempts}")
    glass = [a for a in attempts if a["outcome"] == "promoted"]
    if not glass or not glass[0]["break_glass"] or glass[0]["requester"] != ADMIN:
        problems.append(f"no break-glass promotion of PR #{first} to {FROZEN_RING} by {ADMIN}: {glass}")
    return problems


# -- automatic promotion (issue 16): ring-2 takes PR #1's build after its soak in ring-1 ----------------

AUTO_RING = "ring-2"


def wait_for_auto_promotion(instance: dg.DagsterInstance, ring: str, deadline: float) -> None:
    """Until the automatic promotion sensor's run into ``ring`` has finished (the sensor starts it by itself)."""
    from aither_assets.promotion.names import AUTO_PROMOTION, POLICY_TAG, RING_TAG

    while True:
        runs = instance.get_runs(filters=dg.RunsFilter(tags={POLICY_TAG: AUTO_PROMOTION, RING_TAG: ring}), limit=1)
        if runs and runs[0].is_finished:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"no finished automatic promotion into {ring}")
        time.sleep(0.5)


def auto_promotion_summary(instance: dg.DagsterInstance, ladder: tuple[str, ...]) -> list[dict]:
    """Every promotion the policy made, with how long after the end of its soak the ring served it."""
    from aither_assets.promotion.names import AUTO_PROMOTION, POLICY_TAG
    from aither_assets.release_policy.events import EventKind
    from aither_assets.release_policy.soak import presence
    from aither_assets.runs import ring_record

    events = ring_record.ring_events(instance, ladder)
    runs = {run.run_id: run for run in instance.get_runs(filters=dg.RunsFilter(tags={POLICY_TAG: AUTO_PROMOTION}))}
    out = []
    for event in events:
        if event.kind is not EventKind.PROMOTION or event.requester != AUTO_REQUESTER:
            continue
        below = ladder[ladder.index(event.ring) - 1] if ladder.index(event.ring) else None
        stay = presence([e for e in events if e.at < event.at], below, event.digest) if below else None
        soak = DEMO_POLICIES.get(event.ring, {}).get("soak_seconds", 0)
        soak_end = stay.since.timestamp() + soak if stay else None
        out.append({"ring": event.ring, "pr": event.pr, "digest": event.digest, "at": event.at.isoformat(),
                    "verified": event.verified, "reason": event.reason, "soak_seconds": soak,
                    "soak_end_to_live_seconds": round(event.at.timestamp() - soak_end, 2) if soak_end else None})
    return [{**entry, "runs": sorted(run.status.value for run in runs.values()
                                     if run.tags.get("aither/ring") == entry["ring"])} for entry in out]


def metrics_summary(instance: dg.DagsterInstance, ladder: tuple[str, ...], client) -> dict:
    """``aither release metrics --json`` over the demo's record (the last day)."""
    from datetime import UTC, datetime

    from aither_assets.runs.policy_view import instance_metrics

    return instance_metrics(instance, ladder, 1, datetime.now(UTC), client)


def auto_promotion_problems(summary: dict, seeded: Seeded) -> list[str]:
    """ring-2 took PR #1's build by itself, after its soak, as the policy; the metrics are there, none faked."""
    problems = []
    first = next(p.number for p in seeded.prs if p.name == "items-pagination")
    autos = summary.get("auto_promotions") or []
    into = [a for a in autos if a["ring"] == AUTO_RING]
    if [(a["pr"], a["verified"]) for a in into] != [(first, True)]:
        problems.append(f"{AUTO_RING} should have taken PR #{first}'s build automatically once, verified: {autos}")
    elif into[0]["soak_end_to_live_seconds"] is None or into[0]["soak_end_to_live_seconds"] < 0:
        problems.append(f"the automatic promotion into {AUTO_RING} did not wait for its soak: {into[0]}")
    if any(a["ring"] != AUTO_RING for a in autos):
        problems.append(f"automatic promotions into rings without auto_promote: {autos}")
    rings = {r["ring"]: r for r in (summary.get("metrics") or {}).get("rings", [])}
    dev, production = rings.get("dev") or {}, rings.get("production") or {}
    if not dev or not dev.get("promotions") or dev.get("deployment_frequency_per_day") is None \
            or dev.get("change_failure_rate") is None or not dev.get("lead_time_samples"):
        problems.append(f"the metrics of dev are missing figures it has data for: {dev}")
    if not production or any(production.get(k) is not None for k in (
            "deployment_frequency_per_day", "lead_time_median_seconds", "change_failure_rate",
            "time_to_restore_median_seconds")):
        problems.append(f"production has no promotion: its figures should be missing (null), not 0: {production}")
    return problems


def staleness_summary(instance: dg.DagsterInstance, pr: int) -> dict:
    """The PR's image digest as container_image's data version, and the version dev's promotion consumed
    (Dagster shows the ring partition out of sync when the two differ)."""
    def latest_tags(key: str) -> tuple[dict, dict]:
        records_ = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(key), asset_partitions=[str(pr)]), limit=1).records
        if not records_:
            return {}, {}
        found = records_[0].asset_materialization
        return dict(found.tags or {}), {k: getattr(v, "value", v) for k, v in found.metadata.items()}

    image_tags, image_meta = latest_tags("container_image")
    ring_tags, ring_meta = latest_tags("ring_dev")
    return {"pr": pr, "image_digest": image_meta.get("digest"), "image_data_version": image_tags.get(
        "dagster/data_version"), "ring_dev_digest": ring_meta.get("digest"),
        "ring_dev_input_data_version": ring_tags.get("dagster/input_data_version/container_image")}
