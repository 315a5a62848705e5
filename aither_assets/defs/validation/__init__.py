"""validation_report: config, YAML, workflows, Dockerfile, compose and workflow security findings."""
