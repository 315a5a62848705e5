"""Run bookkeeping shared by the sensors, the webhook receiver and the reports: the pipeline job's
name, run tags, the PR partitions definition, and lookups of a PR's runs in the instance."""
