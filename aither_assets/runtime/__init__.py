"""How the control plane runs: Dagster runtime parts (executor, launcher, storage) and process helpers."""
