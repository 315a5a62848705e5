"""The promotion gates: one pure function from the evidence and the ring's policy to every unmet gate.

Evaluated inside every promotion run (a blocking check of an earlier run gates nothing), so the
answer is always about the digest being deployed now. A refusal lists *every* unmet gate, not the
first, so a release manager fixes them in one go.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aither_assets.config.operator import RingPolicy
from aither_assets.release_policy.permissions import permission_at_least

UNAUTHENTICATED = "Dagster UI (unauthenticated)"



@dataclass(frozen=True)
class CheckResult:
    """One check of the candidate's pipeline run; ``passed`` None means the run has no result for it."""

    name: str  # e.g. "validation_report:no_errors"
    passed: bool | None
    detail: str = ""


@dataclass(frozen=True)
class Candidate:
    """The build being promoted: the image of the PR's head and the pipeline run that made and checked it."""

    digest: str | None
    head_sha: str | None  # the head the image was built from
    run_id: str | None
    checks: tuple[CheckResult, ...] = ()
    built_at: float | None = None  # when the image was recorded (epoch seconds)


@dataclass(frozen=True)
class RingPresence:
    """A digest of this PR verified in one ring: since when, and until when if something replaced it."""

    ring: str
    digest: str
    since: float
    until: float | None = None  # None: still live
    run_id: str | None = None


@dataclass(frozen=True)
class Approval:
    """``/approve <ring>`` by ``login`` at ``at``; ``digest`` is the one it names, or the PR's candidate then."""

    login: str
    ring: str
    at: float
    permission: str  # the author's permission on the repository, read from GitHub
    digest: str | None
    comment_id: int | None = None


@dataclass(frozen=True)
class Evidence:
    pr: int
    pr_author: str
    pr_head_sha: str
    merged: bool
    entry_ring: str | None  # from the PR's base branch; None: the base maps to no ring
    candidate: Candidate
    below: RingPresence | None  # this candidate digest in the ring below (the latest such record)
    approvals: tuple[Approval, ...]
    requester: str  # a GitHub login, or UNAUTHENTICATED
    now: float


@dataclass(frozen=True)
class UnmetGate:
    gate: str  # entry | build | ring_below | soak | approvals | merged
    reason: str


@dataclass(frozen=True)
class GateReport:
    ring: str
    unmet: tuple[UnmetGate, ...]
    counted_approvals: tuple[Approval, ...] = ()
    ignored_approvals: tuple[tuple[Approval, str], ...] = ()
    soak_left: float | None = None  # seconds still to soak in the ring below (None: no soak applies)
    notes: tuple[str, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return not self.unmet

    def render(self, pr: int, digest: str | None) -> str:
        """One readable block: what was asked, then each unmet gate on its own line."""
        head = f"promotion of PR #{pr} ({_short(digest)}) to {self.ring}"
        if self.passed:
            return f"{head}: every gate met"
        lines = [f"{head} refused: {len(self.unmet)} unmet gate{'s' if len(self.unmet) > 1 else ''}"]
        lines += [f"  - {gate.gate}: {gate.reason}" for gate in self.unmet]
        return "\n".join(lines)


def _short(digest: str | None) -> str:
    return digest[:19] if digest else "no digest"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def approval_digest(approval: Approval, history: tuple[tuple[float, str], ...]) -> str | None:
    """The digest an approval is for: the one it names, else the PR's candidate when it was made.

    ``history`` is (built_at, digest) of the PR's images, any order. So a new digest voids
    approvals made before it, while a rebuild to the same digest keeps them. GitHub's times are whole
    seconds: a build recorded within the approval's second counts as made after it (to be sure the
    approver saw it, such an approval must name the digest).
    """
    if approval.digest:
        return approval.digest
    before = [(at, digest) for at, digest in history if at <= approval.at]
    return max(before)[1] if before else None


def evaluate(ring: str, ladder: tuple[str, ...], policy: RingPolicy, evidence: Evidence,
             history: tuple[tuple[float, str], ...] = ()) -> GateReport:
    """Every unmet gate for promoting ``evidence.candidate`` to ``ring`` under ``policy``."""
    unmet: list[UnmetGate] = []
    candidate = evidence.candidate

    # entry: rings below the PR's entry ring are not for it; rings from the entry up are
    if ring not in ladder:
        unmet.append(UnmetGate("entry", f"{ring!r} is not a ring of the ladder {list(ladder)}"))
        return GateReport(ring, tuple(unmet))
    if evidence.entry_ring is None:
        unmet.append(UnmetGate("entry", "the PR's base branch maps to no ring, so it enters none"))
    elif ladder.index(ring) < ladder.index(evidence.entry_ring):
        unmet.append(UnmetGate("entry", f"the PR enters at {evidence.entry_ring} (its base branch); "
                                        f"{ring} is below it"))

    # build: the image of the PR's current head, from a pipeline run whose every check passed
    if not candidate.digest:
        unmet.append(UnmetGate("build", "no image was built for this PR"))
    elif candidate.head_sha != evidence.pr_head_sha:
        unmet.append(UnmetGate("build", f"the image was built from {(candidate.head_sha or '?')[:12]}, "
                                        f"not the PR's head {evidence.pr_head_sha[:12]}"))
    if candidate.digest and not candidate.run_id:
        unmet.append(UnmetGate("build", "no pipeline run is recorded for the image"))
    if candidate.digest and candidate.run_id:
        if not candidate.checks:
            unmet.append(UnmetGate("build", f"pipeline run {candidate.run_id[:8]} recorded no check"))
        for check in candidate.checks:
            if check.passed is None:
                unmet.append(UnmetGate("build", f"{check.name}: no result in run {candidate.run_id[:8]}"))
            elif not check.passed:
                detail = f" ({check.detail[:200]})" if check.detail else ""
                unmet.append(UnmetGate("build", f"{check.name} failed in run {candidate.run_id[:8]}{detail}"))

    # ring below and soak, unless this is where the PR enters
    below_ring = ladder[ladder.index(ring) - 1] if ladder.index(ring) > 0 else None
    soak_left = None
    if below_ring is not None and ring != evidence.entry_ring and evidence.entry_ring is not None \
            and ladder.index(ring) > ladder.index(evidence.entry_ring):
        below = evidence.below
        if below is None or below.ring != below_ring or below.digest != candidate.digest:
            unmet.append(UnmetGate("ring_below", f"{_short(candidate.digest)} has not been live and verified "
                                                 f"in {below_ring}"))
        elif policy.soak_seconds > 0:
            soaked = (below.until if below.until is not None else evidence.now) - below.since
            soak_left = max(0.0, policy.soak_seconds - soaked)
            if soak_left > 0:
                ended = " (it was replaced there)" if below.until is not None else ""
                unmet.append(UnmetGate("soak", f"live in {below_ring} for {_duration(soaked)}{ended}, "
                                               f"needs {_duration(policy.soak_seconds)}: "
                                               f"{_duration(soak_left)} left"))

    # approvals: distinct people with enough permission, for this ring and this digest,
    # never the PR's author nor the person asking for the promotion
    counted: dict[str, Approval] = {}
    ignored: list[tuple[Approval, str]] = []
    for approval in sorted(evidence.approvals, key=lambda a: a.at):
        if approval.ring != ring:
            continue
        why = None
        for_digest = approval_digest(approval, history)
        if approval.login.lower() == evidence.pr_author.lower():
            why = "the PR's author cannot approve their own change"
        elif approval.login.lower() == evidence.requester.lower():
            why = "the person requesting the promotion cannot also approve it"
        elif not permission_at_least(approval.permission, policy.approver_permission):
            why = f"has {approval.permission} permission, {policy.approver_permission} is needed"
        elif for_digest != candidate.digest:
            why = f"approved {_short(for_digest)}, an earlier build (a new digest voids approvals)"
        elif approval.login.lower() in counted:
            continue
        if why:
            ignored.append((approval, why))
        else:
            counted[approval.login.lower()] = approval
    if len(counted) < policy.approvals:
        got = ", ".join(a.login for a in counted.values()) or "none"
        reason = f"{len(counted)} of {policy.approvals} approval{'s' if policy.approvals > 1 else ''} " \
                 f"for {ring} on {_short(candidate.digest)} (counted: {got})"
        seen = set()
        for approval, why in ignored:
            if (approval.login, why) not in seen:
                seen.add((approval.login, why))
                reason += f"; {approval.login} ignored: {why}"
        unmet.append(UnmetGate("approvals", reason))

    if policy.require_merged and not evidence.merged:
        unmet.append(UnmetGate("merged", f"{ring} takes merged PRs only; PR #{evidence.pr} is not merged"))

    return GateReport(ring, tuple(unmet), tuple(counted.values()), tuple(ignored), soak_left)
