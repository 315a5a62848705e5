"""Pull requests as partitions: the partitions definition, the PR sensor, pr_context."""
