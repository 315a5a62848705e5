"""Per-PR preview environments: port allocation (:mod:`.ports`) and containers (:mod:`.docker_env`).

Dagster-free: the ``pr_environment`` asset wraps these.
"""
