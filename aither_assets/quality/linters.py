"""Run the repo's linters on a checkout and collect their findings (the ``quality_report``).

Each linter's command runs like a test suite (``aither_assets.runtime.prcommand.run_command``, in a sandbox:
argv only, minimal environment, timeout, process-group kill), with ``cwd`` the checkout.
Placeholders: ``{workspace}`` is the checkout; ``{junit}`` is a file the linter writes its
report to (then that file is read instead of stdout, whatever the format). ``{files}``
and ``{coverage}`` mean nothing for a linter and are refused.

A linter that cannot start, times out, prints output its format cannot parse, or exits
non-zero without reporting a single finding gets status ``error``/``timeout`` with a
message: never "0 findings".
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Literal

from aither_assets.config.pipeline import LinterConfig
from aither_assets.quality.findings import (
    SEVERITIES,
    FindingsError,
    LintFinding,
    Severity,
    parse_findings,
)
from aither_assets.runtime import cancellation
from aither_assets.runtime.prcommand import CommandRequest, CommandResult, run_command
from aither_assets.sandbox.model import RESULTS_DIR, WORKDIR, SandboxConfigError
from aither_assets.sandbox.runner import Sandbox
from aither_assets.suites.runner import expand_argv

LinterState = Literal["clean", "findings", "error", "timeout"]
_OK_STATES = ("clean", "findings")


@dataclass(frozen=True)
class LinterStatus:
    name: str
    format: str
    status: LinterState
    exit_code: int | None
    message: str | None
    findings: int | None  # None when the linter's output could not be read
    duration_seconds: float | None
    argv: tuple[str, ...] = ()
    stderr_tail: str = ""

    @property
    def ok(self) -> bool:
        return self.status in _OK_STATES

    def to_json(self) -> dict:
        data = asdict(self)
        data["argv"] = list(self.argv)
        return data


def _sort_key(f: LintFinding):
    return (f.file, f.line or 0, f.column or 0, f.linter, f.rule, f.message)


@dataclass
class QualityReport:
    findings: list[LintFinding] = field(default_factory=list)
    linters: dict[str, LinterStatus] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every configured linter ran and its output was read."""
        return all(s.ok for s in self.linters.values())

    @property
    def counts_by_severity(self) -> dict[Severity, int] | None:
        """Findings per severity (every severity present), or None when no linter's output was read."""
        if not any(s.ok for s in self.linters.values()):
            return None
        return {sev: sum(1 for f in self.findings if f.severity == sev) for sev in SEVERITIES}

    @property
    def counts_by_file(self) -> dict[str, dict[Severity, int]]:
        """``file -> {severity: count}`` (every severity present), files sorted."""
        counts: dict[str, dict[Severity, int]] = {}
        for f in self.findings:
            counts.setdefault(f.file, dict.fromkeys(SEVERITIES, 0))[f.severity] += 1
        return dict(sorted(counts.items()))

    def to_json(self) -> dict:
        return {
            "complete": self.complete,
            "counts_by_severity": self.counts_by_severity,
            "counts_by_file": self.counts_by_file,
            "linters": {name: status.to_json() for name, status in self.linters.items()},
            "findings": [f.to_json() for f in self.findings],
        }


def run_linter(
    linter: LinterConfig,
    root: Path,
    *,
    env: Mapping[str, str] | None = None,
    path: Sequence[str | os.PathLike[str]] | None = None,
    timeout: float | None = None,
    sandbox: Sandbox | None = None,
) -> tuple[LinterStatus, list[LintFinding]]:
    """Run one linter; its status and findings (empty when the status is not ok).

    With ``sandbox`` it runs in a container on a copy of the checkout (``{workspace}`` is the
    copy, ``{junit}`` a file in it that is brought back), like a test suite.
    """
    root = Path(root).resolve()
    limit = linter.timeout_seconds if timeout is None else min(timeout, linter.timeout_seconds)
    scratch = Path(tempfile.mkdtemp(prefix=f"aither-lint-{linter.name}-"))

    def status(state: LinterState, message: str | None, proc: CommandResult | None = None,
               count: int | None = None, argv: Sequence[str] = ()) -> LinterStatus:
        return LinterStatus(
            name=linter.name, format=linter.format, status=state,
            exit_code=proc.exit_code if proc else None, message=message, findings=count,
            duration_seconds=proc.duration_seconds if proc else None,
            argv=tuple(proc.argv if proc else argv), stderr_tail=proc.stderr_tail if proc else "",
        )

    try:
        report_file = scratch / "report"
        try:
            for bad in ("files", "coverage"):
                if any("{" + bad + "}" in arg for arg in linter.command):
                    raise ValueError(f"{{{bad}}} is not available to linters")
            if sandbox is not None:
                report_name = f"lint-{linter.name}.report"
                values = {"workspace": WORKDIR, "junit": f"{RESULTS_DIR}/{report_name}"}
            else:
                values = {"workspace": str(root), "junit": str(report_file)}
            argv = expand_argv(linter.command, values)
        except ValueError as exc:
            return status("error", f"bad linter command: {exc}"), []
        reads_file = any("{junit}" in arg for arg in linter.command)

        findings_root = root
        request = CommandRequest(tuple(argv), root, limit, dict(env or {}),
                                 None if path is None else tuple(str(p) for p in path), label=f"lint-{linter.name}")
        if sandbox is not None:
            try:
                image = sandbox.image_for(linter.runner_image, f"linters ({linter.name}).runner_image")
            except SandboxConfigError as exc:
                return status("error", str(exc)), []
            request = replace(request, image=image, collect=(report_name,))
            findings_root = Path(WORKDIR)  # the linter saw the copy there: report paths relative to it
        proc = run_command(request, sandbox)
        if sandbox is not None and report_name in proc.files:
            report_file.write_bytes(proc.files[report_name])
        if not proc.started:
            return status("error", proc.start_error, proc, argv=argv), []
        if proc.timed_out:
            how = "the sandbox container was stopped" if sandbox is not None else "its process group was killed"
            return status("timeout", f"linter timed out after {limit:g} s; {how}", proc), []
        if proc.stopped:
            return status("error", f"linter {proc.stop_reason}: {proc.output_hint()}", proc), []
        if proc.stdout_truncated:
            return status("error", "linter output is too large to read", proc), []
        if reads_file:
            if not report_file.is_file():
                return status("error", f"linter exited {proc.exit_code} without writing its report: "
                                       f"{proc.output_hint()}", proc), []
            text, label = report_file.read_text("utf-8", errors="replace"), "{junit} report"
        else:
            text, label = proc.stdout, "stdout"
        try:
            findings = parse_findings(linter.format, text, findings_root, linter.name)
        except FindingsError as exc:
            return status("error", f"linter exited {proc.exit_code}; its {label} is not {linter.format}: {exc}; "
                                   f"stderr: {proc.stderr_tail[-400:].strip() or '(empty)'}", proc), []
        if proc.exit_code != 0 and not findings:
            return status("error", f"linter exited {proc.exit_code} without reporting any finding: "
                                   f"{proc.output_hint()}", proc, count=0), []
        return status("findings" if findings else "clean", None, proc, count=len(findings)), findings
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run_linters(
    linters: Sequence[LinterConfig],
    root: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    *,
    path: Sequence[str | os.PathLike[str]] | None = None,
    max_workers: int | None = None,
    sandbox: Sandbox | None = None,
) -> QualityReport:
    """Run every linter on the checkout at ``root`` (in parallel) and merge their findings.

    ``timeout`` caps each linter's own ``timeout_seconds``; ``env`` and ``path`` work as
    for test suites (``aither_assets.suites.runner.run_suites``).
    """
    report = QualityReport()
    if not linters:
        return report
    workers = max(1, max_workers or min(len(linters), os.cpu_count() or 1))

    def one(linter: LinterConfig) -> tuple[LinterStatus, list[LintFinding]]:
        try:
            return run_linter(linter, root, env=env, path=path, timeout=timeout, sandbox=sandbox)
        except cancellation.Cancelled:
            raise  # no report for a cancelled run
        except Exception as exc:  # noqa: BLE001 - one broken linter must not hide the others
            return LinterStatus(linter.name, linter.format, "error", None, f"runner error: {type(exc).__name__}: {exc}",
                                None, None), []

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aither-lint") as pool:
        for linter_status, findings in pool.map(one, linters):
            report.linters[linter_status.name] = linter_status
            report.findings.extend(findings)
    report.findings.sort(key=_sort_key)
    return report
