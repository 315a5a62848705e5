"""build_artifacts: the runtime package of a PR head."""
