"""GitHub webhooks: a receiver that starts a PR's run as soon as GitHub reports a new head.

The PR sensor stays the complete path (skips, closed PRs, approvals, resync); the receiver only
starts runs sooner, and the sensor leaves heads that already have a run alone.
"""
