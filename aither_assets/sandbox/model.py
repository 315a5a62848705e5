"""Typed values of the sandbox: what to run, under which limits, and what happened. No Docker here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from aither_assets.config.operator import SandboxConfig

#: Why the sandbox stopped a command, most specific first when several apply.
StopReason = Literal["oom", "pids", "disk", "timeout"]
STOP_ORDER: tuple[StopReason, ...] = ("oom", "pids", "disk", "timeout")
#: Short words for a status line (GitHub allows 140 characters); the suite's message has the figures.
STOP_LABELS: dict[str, str] = {"oom": "out of memory", "pids": "process limit reached", "disk": "disk full",
                               "timeout": "timed out"}
#: ``none``: loopback only. ``isolated``: an internal bridge network with no address of the host
#: on it, no route off it and no traffic between containers (see aither_assets/sandbox/runner.py).
NetworkMode = Literal["none", "isolated"]

#: Inside the container: the working folder (the head's export, writable) and where reports go.
WORKDIR = "/work"
RESULTS_DIR = "/work/.aither/results"
#: The environment every sandboxed command starts from; the caller may add variables, never the host's.
BASE_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "HOME": "/tmp",
    "TMPDIR": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "PYTHONUNBUFFERED": "1",
}


class SandboxConfigError(ValueError):
    """A repo config asks for something the operator config does not allow; one line naming field and value."""


@dataclass(frozen=True)
class Limits:
    memory_mb: int
    cpus: float
    pids: int
    disk_mb: int
    tmp_mb: int

    @classmethod
    def from_config(cls, config: SandboxConfig) -> "Limits":
        return cls(config.memory_mb, config.cpus, config.pids, config.disk_mb, config.tmp_mb)

    def describe(self, reason: StopReason) -> str:
        return {
            "oom": f"memory limit of {self.memory_mb} MiB reached: the kernel killed the process (OOM)",
            "pids": f"process limit of {self.pids} reached: fork() failed",
            "disk": f"disk limit reached: the working folder ({self.disk_mb} MiB) or /tmp ({self.tmp_mb} MiB) is full",
            "timeout": "time limit reached",
        }[reason]


@dataclass(frozen=True)
class SandboxRequest:
    """One PR-controlled command. ``collect``: report files (names under RESULTS_DIR) to bring back."""

    argv: tuple[str, ...]
    image: str
    timeout: float
    label: str
    env: tuple[tuple[str, str], ...] = ()
    network: NetworkMode = "none"
    collect: tuple[str, ...] = ()
    max_output_bytes: int = 8 * 1024 * 1024
    max_result_bytes: int = 16 * 1024 * 1024  # with both outputs, the base64 report stays under the 64m log cap

    def environment(self) -> dict[str, str]:
        return {**BASE_ENV, **dict(self.env)}


@dataclass(frozen=True)
class SandboxResult:
    """What happened to one command in its container.

    ``exit_code`` is None when the command never ran to an exit (start error, stopped by a limit
    that killed it, timeout). ``stopped`` names the limit that stopped it (``limits_hit`` all that
    were reached); ``secret_found`` is True when a control-plane secret was found (and masked) in
    what came back: that should be impossible, so it is reported, not just hidden.
    """

    argv: tuple[str, ...]
    exit_code: int | None
    duration_seconds: float
    stdout: str = ""
    stderr: str = ""
    start_error: str | None = None
    stopped: StopReason | None = None
    limits_hit: tuple[StopReason, ...] = ()
    reason: str | None = None
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    secret_found: bool = False
    container: str | None = None
    #: Host-side cost: create + start + hand over the tree, and removal (seconds).
    setup_seconds: float | None = None
    teardown_seconds: float | None = None

    @property
    def timed_out(self) -> bool:
        return self.stopped == "timeout"


def stop_reason(limits: Limits, hit: set[StopReason], timeout: float) -> tuple[StopReason | None, str | None]:
    """The primary reason among the limits reached, and a one-line message naming all of them."""
    ordered = [r for r in STOP_ORDER if r in hit]
    if not ordered:
        return None, None
    parts = [limits.describe(r) if r != "timeout" else f"time limit of {timeout:g} s reached" for r in ordered]
    return ordered[0], "stopped by the sandbox: " + "; ".join(parts)
