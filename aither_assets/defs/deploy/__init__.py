"""container_image, pr_environment, smoke_report, and the teardown of preview environments."""
