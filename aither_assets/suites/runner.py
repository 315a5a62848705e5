"""Run planned suites as subprocesses, in parallel, and read their reports.

Each suite's command is the argv template from the config with placeholders filled in
per argument: ``{files}`` (a whole argument) becomes one argument per test file,
``{junit}`` the suite's report path ``<out_dir>/<kind>-<name>.xml``, ``{coverage}``
``<out_dir>/<kind>-<name>.coverage.xml`` and ``{workspace}`` the checkout. The process
rules (no shell, minimal environment, timeout, process-group kill) live in
``aither_assets.runtime.prcommand``.

Numbers are only ever read from a report the suite wrote: a suite that wrote none, or
an unreadable one, is ``error`` with ``report=None`` (never zero counts).
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from aither_assets.runtime import cancellation
from aither_assets.runtime.prcommand import CommandRequest, CommandResult, run_command, tail
from aither_assets.sandbox.model import RESULTS_DIR, WORKDIR, SandboxConfigError
from aither_assets.sandbox.runner import Sandbox
from aither_assets.suites.coverage import read_coverage
from aither_assets.suites.plan import Suite, SuiteKind
from aither_assets.suites.reports import ReportError, TestReport, parse_report

SuiteStatus = Literal["passed", "failed", "error", "timeout", "empty"]

_SAFE_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")
_MESSAGE_OUTPUT_CHARS = 600


@dataclass
class SuiteResult:
    kind: SuiteKind
    name: str
    status: SuiteStatus
    report: TestReport | None
    duration_seconds: float | None
    exit_code: int | None
    coverage_percent: float | None
    junit_path: str | None
    stdout_tail: str
    stderr_tail: str
    message: str | None
    files: tuple[str, ...] = ()
    argv: tuple[str, ...] = ()
    #: The sandbox limit that stopped the suite (oom, pids, disk, timeout), None when none did.
    stopped: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}-{self.name}"

    @property
    def ok(self) -> bool:
        return self.status == "passed"

    def failures(self) -> list[tuple[str, str]]:
        """``(test id, message)`` for every failed or errored case (``file::name`` where known)."""
        if self.report is None:
            return []
        return [(case.id, case.message or case.status) for case in self.report.failures()]

    def to_json(self, with_cases: bool = False) -> dict:
        """A JSON-ready dict. Counts are None (not 0) when there is no report."""
        report = self.report
        return {
            "kind": self.kind,
            "name": self.name,
            "status": self.status,
            "tests": report.tests if report else None,
            "passed": report.passed if report else None,
            "failed": report.failed if report else None,
            "errors": report.errors if report else None,
            "skipped": report.skipped if report else None,
            "report": report.to_json(with_cases=with_cases) if report else None,
            "failures": [{"test": test, "message": message} for test, message in self.failures()],
            "duration_seconds": self.duration_seconds,
            "exit_code": self.exit_code,
            "coverage_percent": self.coverage_percent,
            "junit_path": self.junit_path,
            "files": list(self.files),
            "argv": list(self.argv),
            "stdout_tail": self.stdout_tail,
            "stderr_tail": self.stderr_tail,
            "message": self.message,
            "stopped": self.stopped,
        }


def expand_argv(template: Sequence[str], values: Mapping[str, str], files: Sequence[str] = ()) -> list[str]:
    """Fill the placeholders of ``template``, one argument at a time.

    ``{files}`` must be a whole argument and expands to one argument per file (a file whose
    name starts with ``-`` is passed as ``./-name`` so it cannot be taken for an option).
    Any other placeholder is replaced inside its argument. Unknown placeholders, format
    specs and conversions are refused (``ValueError``).
    """
    argv: list[str] = []
    for arg in template:
        if arg == "{files}":
            argv += [f"./{f}" if f.startswith("-") else f for f in files]
            continue
        pieces = []
        for literal, field_name, spec, conversion in string.Formatter().parse(arg):
            pieces.append(literal)
            if field_name is None:
                continue
            if field_name == "files":
                raise ValueError(f"{{files}} must be a whole argument, not part of {arg!r}")
            if spec or conversion or field_name not in values:
                allowed = [*sorted(values), "files"]
                raise ValueError(f"unknown placeholder {{{field_name}}} in {arg!r}; allowed: {allowed}")
            pieces.append(values[field_name])
        argv.append("".join(pieces))
    return argv


def _uses(template: Sequence[str], placeholder: str) -> bool:
    token = "{" + placeholder + "}"
    return any(token in arg for arg in template)


def _result(suite: Suite, status: SuiteStatus, message: str | None, proc: CommandResult | None = None,
            **fields) -> SuiteResult:
    values = {
        "report": None,
        "duration_seconds": proc.duration_seconds if proc else None,
        "exit_code": proc.exit_code if proc else None,
        "coverage_percent": None,
        "junit_path": None,
        "stdout_tail": proc.stdout_tail if proc else "",
        "stderr_tail": proc.stderr_tail if proc else "",
        "argv": proc.argv if proc else (),
        "stopped": proc.stopped if proc else None,
    }
    values.update(fields)
    return SuiteResult(kind=suite.kind, name=suite.name, status=status, message=message, files=suite.files, **values)


def run_suite(
    suite: Suite,
    root: Path,
    out_dir: Path,
    env: Mapping[str, str] | None = None,
    path: Sequence[str | os.PathLike[str]] | None = None,
    sandbox: Sandbox | None = None,
) -> SuiteResult:
    """Run one suite and read its report (see ``run_suites``)."""
    if suite.is_empty:
        return _result(suite, "empty", "no test files matched this suite's paths: nothing was run")
    if not _SAFE_KEY.fullmatch(suite.key) or ".." in suite.key:
        return _result(suite, "error", f"suite name {suite.key!r} cannot name a report file")
    if not _uses(suite.argv_template, "junit"):
        return _result(suite, "error", "the test command has no {junit} placeholder: there is no report to read")
    root = Path(root).resolve()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    junit = out_dir / f"{suite.key}.xml"
    coverage = out_dir / f"{suite.key}.coverage.xml"
    for stale in (junit, coverage):  # never read a report an earlier run left behind
        stale.unlink(missing_ok=True)
    if sandbox is not None:  # the same placeholders, as the container sees them
        values = {"junit": f"{RESULTS_DIR}/{junit.name}", "coverage": f"{RESULTS_DIR}/{coverage.name}",
                  "workspace": WORKDIR}
    else:
        values = {"junit": str(junit), "coverage": str(coverage), "workspace": str(root)}
    try:
        argv = expand_argv(suite.argv_template, values, suite.files)
    except ValueError as exc:
        return _result(suite, "error", f"bad test command: {exc}")

    request = CommandRequest(tuple(argv), root, suite.timeout, dict(env or {}),
                             None if path is None else tuple(str(p) for p in path), label=suite.key)
    if sandbox is not None:
        try:
            request = replace(request, image=sandbox.image_for(suite.image, "tests.runner_image"),
                              network=sandbox.network_for(suite.network, f"tests ({suite.key}).network"),
                              collect=(junit.name, coverage.name))
        except SandboxConfigError as exc:
            return _result(suite, "error", str(exc))
    proc = run_command(request, sandbox)
    for target in (junit, coverage):  # reports the container wrote, brought back
        if target.name in proc.files:
            target.write_bytes(proc.files[target.name])
    if not proc.started:
        return _result(suite, "error", proc.start_error, proc, argv=tuple(argv))
    if proc.timed_out:
        how = "the sandbox container was stopped" if sandbox is not None else "its process group was killed"
        extra = f"; {proc.stop_reason}" if proc.stopped and proc.stopped != "timeout" else ""
        return _result(
            suite, "timeout",
            f"suite timed out after {suite.timeout:g} s (ran {proc.duration_seconds:.1f} s); {how}{extra}",
            proc,
        )
    code = proc.exit_code
    hint = proc.output_hint(_MESSAGE_OUTPUT_CHARS)
    if proc.stopped:  # out of memory, processes or disk: the suite failed because of it, whatever it reported
        if not junit.is_file():
            return _result(suite, "error", f"{proc.stop_reason}; no JUnit XML written (exit {code}): {hint}", proc)
    elif not junit.is_file():
        return _result(suite, "error", f"suite exited {code} without writing JUnit XML: {hint}", proc)
    try:
        report = parse_report(junit, suite.files)
    except ReportError as exc:
        stopped = f"{proc.stop_reason}; " if proc.stopped else ""
        return _result(suite, "error", f"{stopped}suite exited {code} with an unreadable report: {exc}: {hint}",
                       proc, junit_path=str(junit))

    notes: list[str] = [proc.stop_reason] if proc.stopped and proc.stop_reason else []
    if proc.secret_found:
        notes.append("a control-plane secret appeared in the suite's output and was masked: report this")
    coverage_percent = None
    if _uses(suite.argv_template, "coverage"):
        try:
            coverage_percent = read_coverage(coverage)
        except ReportError as exc:
            notes.append(f"coverage not read: {exc}")

    if proc.stopped:
        status: SuiteStatus = "failed"
        notes.insert(1, f"{report.failed} failed, {report.errors} errors out of {report.tests} tests")
    elif report.failed or report.errors:
        status = "failed"
        notes.insert(0, f"{report.failed} failed, {report.errors} errors out of {report.tests} tests")
    elif report.tests == 0:
        status = "failed"
        notes.insert(0, f"ran 0 tests from {len(suite.files)} files (exit code {code})")
    elif code != 0:
        status = "failed"
        notes.insert(0, f"suite exited {code} although its report shows no failed test: {tail(hint, 300)}")
    else:
        status = "passed"
    return _result(
        suite, status, "; ".join(notes) or None, proc,
        report=report, coverage_percent=coverage_percent, junit_path=str(junit),
    )


def run_suites(
    suites: Sequence[Suite],
    root: Path,
    out_dir: Path,
    max_workers: int | None = None,
    env: Mapping[str, str] | None = None,
    *,
    path: Sequence[str | os.PathLike[str]] | None = None,
    sandbox: Sandbox | None = None,
) -> list[SuiteResult]:
    """Run ``suites`` in ``root`` (cwd), up to ``max_workers`` at a time (default: CPU count).

    ``env`` is added to the minimal environment (nothing else is inherited); ``path``
    replaces the default ``PATH`` entries (the running interpreter's folder first, so
    ``python`` is this interpreter, then the system folders). Results keep the order of
    ``suites``; empty suites are reported as ``empty`` without running anything.

    With ``sandbox`` every suite runs in its own container (aither_assets/sandbox): the
    placeholders name paths inside it, ``path`` does not apply, and a suite the sandbox stopped
    (out of memory, processes or disk, timeout) fails with the reason in its message and
    ``stopped``.
    """
    workers = max(1, max_workers or os.cpu_count() or 1)

    def one(suite: Suite) -> SuiteResult:
        try:
            return run_suite(suite, root, out_dir, env=env, path=path, sandbox=sandbox)
        except cancellation.Cancelled:
            raise  # no results for a cancelled run
        except Exception as exc:  # noqa: BLE001 - one broken suite must not hide the others' results
            return _result(suite, "error", f"runner error: {type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="aither-suite") as pool:
        return list(pool.map(one, suites))
