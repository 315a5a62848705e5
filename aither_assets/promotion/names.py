"""Ring names (the operator's ladder) -> Dagster asset names, one rule in one place.

``ring-0`` -> ``ring_0``, ``dev`` -> ``ring_dev``, ``production`` -> ``ring_production``: a ``ring-``
prefix is not repeated, every other ring gets one, and ``-`` becomes ``_`` (asset names allow
``[A-Za-z0-9_]``).
"""

from __future__ import annotations

RING_STATE_ASSET = "ring_state"  # one static partition per ring: what is live there now


def ring_asset_name(ring: str) -> str:
    stem = ring[len("ring-"):] if ring.startswith("ring-") else ring
    return "ring_" + stem.replace("-", "_")


def ring_asset_names(ladder: tuple[str, ...] | list[str]) -> dict[str, str]:
    """ring -> asset name for the whole ladder; refuses two rings that would share an asset."""
    names = {ring: ring_asset_name(ring) for ring in ladder}
    if len(set(names.values())) != len(names):
        raise ValueError(f"rings {list(ladder)} map to clashing asset names {list(names.values())}")
    return names


# Run tags of promotion runs (set by the comment handlers; the run re-checks the identity they claim).
RING_TAG = "aither/ring"  # one promotion per ring at a time (dagster.yaml), and the asset's own guard
REQUESTER_TAG = "aither/requester"  # shown in the UI; proven by COMMAND_COMMENT_TAG inside the run
COMMAND_COMMENT_TAG = "aither/command-comment"  # the /promote comment's id
PROMOTION_MODE_TAG = "aither/promotion-mode"  # "manual" now; issue 16 adds "automatic" and "rollback"
# Set by the release policy's sensors on the runs they request: "auto-promotion" or "auto-rollback". It labels
# the run (the requester the ring asset records); it is not authentication, and every gate still applies.
POLICY_TAG = "aither/policy"
AUTO_PROMOTION = "auto-promotion"
AUTO_ROLLBACK = "auto-rollback"
