"""The runtime package of a PR head: reproducible archives and build-metadata.json."""
