"""Rollback, holds, automatic promotion, freeze windows, soak and delivery metrics: the pure part.

Plain functions over typed records that know nothing of Dagster, Docker or GitHub. The Dagster
assets, sensors and the ``aither release`` CLI gather the record (materializations, observations,
comments, permissions read from GitHub) and call these; each answer says why.

- events.py: RingEvent, the one record everything is computed from (times kept in UTC)
- permissions.py: GitHub roles compared; the one refusal rule (role + reason)
- holds.py: holds derived from rollbacks and hold/unhold events; who may hold and unhold
- rollback.py: what a ring serves, the last good digest to roll back to, who may roll back
- autorollback.py: a failed verification -> roll back to the last good digest and hold the build
- reverify.py: when a live ring's build is due for its periodic re-verification
- freeze.py: is a ring frozen now (windows in config/freeze.py: recurring, dated, explicit time zone), break-glass
- policy_gates.py: held and frozen as gates beside issue 14's, so a refusal lists them all
- soak.py: soak time left for a candidate in the ring below
- auto.py: which build automatic promotion picks, and why not the others
- approvals.py: approvals voided by a new digest
- metrics.py: deployment frequency, lead time, change failure rate, time to restore per ring
"""
