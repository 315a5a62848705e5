"""HTTP smoke checks against a PR's preview environment (:mod:`.checks`); Dagster-free."""
