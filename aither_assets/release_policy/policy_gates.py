"""The two gates issue 16 adds to every promotion, by a person or by the policy: held and frozen.

They have the shape of issue 14's UnmetGate (gate, reason), so the promotion run appends them to
its GateReport and a refusal still lists every unmet gate in one block. A break-glass promotion
that was allowed passes the freeze gate and is recorded as break-glass by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from aither_assets.release_policy.freeze import FreezeDecision
from aither_assets.release_policy.holds import HoldBook


@dataclass(frozen=True)
class PolicyGate:
    gate: str  # held | frozen
    reason: str


def policy_gates(holds: HoldBook, freeze: FreezeDecision, pr: int, digest: str | None) -> tuple[PolicyGate, ...]:
    """Unmet held/frozen gates for promoting PR ``pr``'s ``digest`` (``freeze`` from check_freeze)."""
    unmet = [PolicyGate("held", f"{hold.describe()}; release it with `aither release unhold {pr} --reason ...` "
                                f"or /unhold")
             for hold in holds.holds_of(pr=pr, digest=digest)]
    if not freeze.allowed:
        unmet.append(PolicyGate("frozen", freeze.reason))
    return tuple(unmet)
