"""Rollback, holds, automatic promotion, freeze windows, soak and delivery metrics: the pure part.

Plain functions over typed records (events.py) that know nothing of Dagster, Docker or GitHub.
The Dagster assets, sensors and the ``aither release`` CLI gather the record (materializations,
observations, comments, permissions read from GitHub) and call these; each answer says why.
"""
