"""Ring promotion, the pure part: ring names, evidence, the gates, PR comment commands.

Nothing here imports Dagster or talks to GitHub; the Dagster assets (defs/release/) and the
GitHub side (promotion requests, approvals) gather the evidence and call these functions.
"""
