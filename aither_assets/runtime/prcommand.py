"""Run one PR-controlled command: argv only, a minimal environment, a timeout, no leftovers.

This is the single place where the pipeline starts commands on a PR's checkout: test suites
(``suites/runner.py``), linters (``quality/linters.py``) and validation tools
(``validation/tools.py``). A ``CommandRequest`` goes in, a ``CommandResult`` comes out.

Where: the pipeline passes a ``Sandbox`` (``aither_assets/sandbox``) for every command that
executes PR content, suites and linters: each runs in its own container with no view of the
control plane, and a limit that stopped it shows in ``CommandResult.stopped``. Validation's
tools (hadolint, zizmor) are our own binaries that only read PR files, so they run on the
host under the rules below, as does the plain baseline script. The rules, which the tests check:

* the command is an argv list, never a shell string;
* the environment is built from scratch: ``PATH`` (the runner's interpreter first, so
  ``python`` is the interpreter running this code), a fresh ``HOME`` and ``TMPDIR``,
  ``LANG=C.UTF-8``, ``PYTHONDONTWRITEBYTECODE=1`` and whatever the caller passes
  explicitly; nothing else from ``os.environ`` (no tokens, no secrets);
* the command runs in its own session / process group; when it times out the whole
  group is killed, and when it exits, anything it left running in its group is killed
  too;
* stdout and stderr go to files (no pipe can fill up and block the command) and are
  read back afterwards, bounded in size;
* a cancelled run (``runtime/cancellation.py``) stops the wait: the group is killed and
  ``Cancelled`` raised.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from aither_assets.runtime import cancellation
from aither_assets.sandbox.model import SandboxRequest

if TYPE_CHECKING:  # the runner imports runtime.cancellation: only its type here
    from aither_assets.sandbox.runner import Sandbox

#: System folders appended after the interpreter's folder on ``PATH``.
SYSTEM_PATH = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
#: How many characters of stdout/stderr results keep as a "tail" for reports.
TAIL_CHARS = 4000
#: Default cap on how much of stdout/stderr is read back into memory.
MAX_OUTPUT_BYTES = 32 * 1024 * 1024
_POLL_SECONDS = 0.02


def default_path() -> list[str]:
    """``PATH`` entries: the folder of the running interpreter (a venv's ``bin``) first, then the system."""
    return [str(Path(sys.executable).parent), *SYSTEM_PATH]


def minimal_env(
    home: Path,
    tmpdir: Path,
    path: Sequence[str | os.PathLike[str]] | None = None,
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment of a child process. ``extra`` is applied last and may override anything."""
    env = {
        "PATH": os.pathsep.join(str(p) for p in (default_path() if path is None else path)),
        "HOME": str(home),
        "TMPDIR": str(tmpdir),
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    for key, value in (extra or {}).items():
        env[str(key)] = str(value)
    return env


@dataclass(frozen=True)
class CommandRequest:
    """One command to run: ``argv`` in ``cwd`` for at most ``timeout`` seconds.

    ``env`` holds the only variables added to the minimal environment; ``path`` replaces the
    default ``PATH`` entries (the running interpreter's folder, then the system folders).
    """

    argv: tuple[str, ...]
    cwd: Path
    timeout: float
    env: Mapping[str, str] = field(default_factory=dict)
    path: tuple[str, ...] | None = None
    max_output_bytes: int = MAX_OUTPUT_BYTES
    #: Placement in a sandbox (``run_command(request, sandbox)``): a name for the container, the runner
    #: image (already allowed by ``Sandbox.image_for``), the network, and report files to bring back
    #: from ``sandbox.model.RESULTS_DIR``. ``path`` means nothing there: the image has its own PATH.
    label: str = "command"
    image: str | None = None
    network: str = "none"
    collect: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", tuple(str(a) for a in self.argv))
        if self.path is not None:
            object.__setattr__(self, "path", tuple(str(p) for p in self.path))


@dataclass(frozen=True)
class CommandResult:
    """What happened to one command. ``exit_code`` is None when it never started or was killed on timeout."""

    argv: tuple[str, ...]
    exit_code: int | None
    timed_out: bool
    duration_seconds: float
    stdout: str = ""
    stderr: str = ""
    #: Why the command could not be started (executable missing, cwd missing, ...); None if it started.
    start_error: str | None = None
    #: True when the output was larger than ``max_output_bytes`` and only its end was kept.
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    env_keys: tuple[str, ...] = field(default=(), repr=False)
    #: Set for sandboxed commands (aither_assets/sandbox): the limit that stopped it and a one-line reason.
    stopped: str | None = None
    stop_reason: str | None = None
    #: A control-plane secret appeared in what the command wrote back (masked; should never happen).
    secret_found: bool = False
    #: Report files brought back from a sandbox (name in ``CommandRequest.collect`` -> content).
    files: Mapping[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def started(self) -> bool:
        return self.start_error is None

    @property
    def stdout_tail(self) -> str:
        return tail(self.stdout)

    @property
    def stderr_tail(self) -> str:
        return tail(self.stderr)

    def output_hint(self, chars: int = 600) -> str:
        """The end of stderr, or of stdout when stderr is empty: what to quote in an error message."""
        text = (self.stderr.strip() or self.stdout.strip())
        return tail(text, chars) if text else "(no output)"


def tail(text: str, chars: int = TAIL_CHARS) -> str:
    return text if len(text) <= chars else "…" + text[-chars:]


def _read_bounded(path: Path, limit: int) -> tuple[str, bool]:
    size = path.stat().st_size
    with path.open("rb") as handle:
        if size > limit:
            handle.seek(size - limit)
        data = handle.read(limit)
    return data.decode("utf-8", errors="replace"), size > limit


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def _wait_without_reaping(proc: subprocess.Popen, deadline: float) -> bool:
    """Wait until ``proc`` exits (True) or ``deadline`` passes (False), leaving it a zombie.

    Not reaping keeps the process-group id reserved, so the group can be killed afterwards
    without any risk of hitting an unrelated process that reused the id.
    """
    if not hasattr(os, "waitid"):  # pragma: no cover - every Linux/macOS Python has it
        try:
            proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            return True
        except subprocess.TimeoutExpired:
            return False
    while True:
        try:
            info = os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
        except ChildProcessError:  # already reaped (should not happen)
            return True
        if info is not None and info.si_pid == proc.pid:
            return True
        if cancellation.requested():
            raise cancellation.Cancelled(f"run cancelled while {proc.args[0]!r} ran")  # caller kills the group
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        time.sleep(min(_POLL_SECONDS, remaining))


def run_argv(
    argv: Sequence[str],
    cwd: Path,
    timeout: float,
    *,
    env: Mapping[str, str] | None = None,
    path: Sequence[str | os.PathLike[str]] | None = None,
    max_output_bytes: int = MAX_OUTPUT_BYTES,
) -> CommandResult:
    """``run_command`` with the request's fields as arguments."""
    return run_command(CommandRequest(
        tuple(argv), Path(cwd), timeout, dict(env or {}), None if path is None else tuple(str(p) for p in path),
        max_output_bytes,
    ))


def run_command(request: CommandRequest, sandbox: Sandbox | None = None) -> CommandResult:
    """Run the request and return once the command (and its process group, or its container) is gone.

    With ``sandbox`` (what the pipeline always passes) the command runs in its own container on a
    copy of ``request.cwd`` (``aither_assets/sandbox``). Without, it runs on this host under the
    rules above: for the plain baseline script and a developer's own machine, never for a PR.
    """
    if sandbox is not None:
        return _run_in_sandbox(request, sandbox)
    argv, cwd, timeout, max_output_bytes = request.argv, request.cwd, request.timeout, request.max_output_bytes
    if not argv:
        return CommandResult(argv, None, False, 0.0, start_error="empty command")
    scratch = Path(tempfile.mkdtemp(prefix="aither-run-"))
    try:
        home, tmpdir = scratch / "home", scratch / "tmp"
        home.mkdir()
        tmpdir.mkdir()
        child_env = minimal_env(home, tmpdir, path=request.path, extra=request.env)
        out_path, err_path = scratch / "stdout", scratch / "stderr"
        started = time.monotonic()
        with out_path.open("wb") as out, err_path.open("wb") as err:
            try:
                proc = subprocess.Popen(  # argv list, no shell, minimal env
                    argv,
                    cwd=cwd,
                    env=child_env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=err,
                    start_new_session=True,
                    close_fds=True,
                )
            except (OSError, ValueError) as exc:  # ValueError: a NUL byte in an argument
                return CommandResult(
                    argv, None, False, time.monotonic() - started,
                    start_error=f"could not start {argv[0]!r}: {getattr(exc, 'strerror', None) or exc}",
                    env_keys=tuple(sorted(child_env)),
                )
            try:
                finished = _wait_without_reaping(proc, started + timeout)
            finally:
                # The child is a zombie (or still running): its pid is still the group id.
                _kill_group(proc.pid)
                proc.wait()
        duration = time.monotonic() - started
        stdout, out_cut = _read_bounded(out_path, max_output_bytes)
        stderr, err_cut = _read_bounded(err_path, max_output_bytes)
        return CommandResult(
            argv=argv,
            exit_code=proc.returncode if finished else None,
            timed_out=not finished,
            duration_seconds=duration,
            stdout=stdout,
            stderr=stderr,
            stdout_truncated=out_cut,
            stderr_truncated=err_cut,
            env_keys=tuple(sorted(child_env)),
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_in_sandbox(request: CommandRequest, sandbox: Sandbox) -> CommandResult:
    if not request.argv:
        return CommandResult(request.argv, None, False, 0.0, start_error="empty command")
    if request.image is None:
        raise ValueError("a sandboxed command needs its runner image (Sandbox.image_for)")
    boxed = SandboxRequest(argv=request.argv, image=request.image, timeout=request.timeout, label=request.label,
                           env=tuple((str(k), str(v)) for k, v in request.env.items()),
                           network=request.network, collect=request.collect)  # type: ignore[arg-type]
    result = sandbox.run(boxed, request.cwd)
    return CommandResult(
        argv=request.argv,
        exit_code=result.exit_code,
        timed_out=result.timed_out,
        duration_seconds=result.duration_seconds,
        stdout=result.stdout,
        stderr=result.stderr,
        start_error=result.start_error,
        stdout_truncated=result.stdout_truncated,
        stderr_truncated=result.stderr_truncated,
        env_keys=tuple(sorted(boxed.environment())),
        stopped=result.stopped,
        stop_reason=result.reason,
        secret_found=result.secret_found,
        files=result.files,
    )
