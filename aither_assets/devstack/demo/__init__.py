"""The embedded stack: local GitHub seeded with the sample app, a registry, and Dagster."""
