"""Small fixture repositories written into tmp_path, and shortcuts to look at findings."""

from __future__ import annotations

import textwrap
from pathlib import Path

from aither_assets.validation import Finding, ValidationReport, validate_repository

#: The smallest config ``load_pipeline_config`` accepts.
MINIMAL_CONFIG = """\
version: 1
app:
  name: demo
  port: 8000
package:
  include: [app/*.py]
"""


def write_files(root: Path, files: dict[str, str | bytes]) -> Path:
    """Write ``{relative path: content}`` under ``root``; text is dedented, so tests can indent it."""
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content), encoding="utf-8")
    return root


def repo(root: Path, files: dict[str, str | bytes], config: bool = True) -> Path:
    """A repository with a valid pipeline config (unless ``config=False``) plus ``files``."""
    base = {".aither/pipeline.yaml": MINIMAL_CONFIG} if config else {}
    return write_files(root, {**base, **files})


def validate(root: Path, **tools) -> ValidationReport:
    """validate_repository with every external tool off unless a test turns it on (fast, hermetic)."""
    options = {"hadolint": None, "zizmor": None, "docker": None, **tools}
    return validate_repository(root, **options)


def of_rule(report: ValidationReport | list[Finding], rule: str) -> list[Finding]:
    findings = report.findings if isinstance(report, ValidationReport) else report
    return [f for f in findings if f.rule == rule]


def where(findings: list[Finding]) -> set[tuple[str, int | None, str, str]]:
    """The exact places of findings: ``(file, line, rule, severity)``."""
    return {(f.file, f.line, f.rule, f.severity) for f in findings}


def workflow(body: str) -> str:
    return textwrap.dedent(body)
