"""quality_report: the linters the repo configures."""
