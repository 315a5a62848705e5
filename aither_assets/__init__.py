"""aither-assets: a per-pull-request CI/CD control plane on Dagster."""
