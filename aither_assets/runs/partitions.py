import dagster as dg

# Dynamic partitions are global to the instance by name, so the name is ours alone.
PR_PARTITIONS_NAME = "aither_pull_requests"

pr_partitions = dg.DynamicPartitionsDefinition(name=PR_PARTITIONS_NAME)
