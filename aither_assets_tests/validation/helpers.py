"""Small fixture repositories written into tmp_path, and shortcuts to look at findings."""

from __future__ import annotations

import shutil
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


FIXTURES = Path(__file__).resolve().parent / "fixtures"


def fixture_repo(tmp_path: Path, name: str, edits: dict[str, list[tuple[str, str]]] | None = None,
                 remove: tuple[str, ...] = (), add: dict[str, str] | None = None) -> Path:
    """A copy of ``fixtures/<name>`` with text replacements (each must match once), files removed or added."""
    root = tmp_path / name
    shutil.copytree(FIXTURES / name, root, symlinks=True)
    for rel, replacements in (edits or {}).items():
        path = root / rel
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            assert text.count(old) == 1, f"{rel}: {old!r} occurs {text.count(old)} times"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
    for rel in remove:
        (root / rel).unlink()
    return write_files(root, add or {})


def line_of(root: Path, rel: str, needle: str, occurrence: int = 1) -> int:
    """1-based line of the ``occurrence``-th line of ``rel`` that contains ``needle``."""
    hits = [n for n, text in enumerate((root / rel).read_text(encoding="utf-8").splitlines(), 1) if needle in text]
    assert len(hits) >= occurrence, f"{needle!r} is not in {rel} {occurrence} time(s)"
    return hits[occurrence - 1]


def aither_errors(report: ValidationReport) -> list[Finding]:
    return [f for f in report.findings if f.tool == "aither" and f.severity in ("error", "warning")]
