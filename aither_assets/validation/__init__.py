"""Validation of a checked-out PR head: config, YAML, workflow wiring, Dockerfile, compose, security.

Dagster-free: :func:`validate_repository` takes a folder and returns a :class:`ValidationReport`
of :class:`Finding` objects (file, line, rule, severity, message, tool).
"""

from aither_assets.validation.findings import Finding
from aither_assets.validation.report import (
    ValidationReport,
    markdown_table,
    sort_findings,
    validate_repository,
)

__all__ = ["Finding", "ValidationReport", "markdown_table", "sort_findings", "validate_repository"]
