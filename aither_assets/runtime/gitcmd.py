"""Running git and holding file locks: the one way the product (and the local GitHub) calls git.

git gets argv lists only and an environment built from scratch (no system config, no
prompt); a token travels only in the environment of one git process (``auth_env``),
never in a URL, a config file or an argument.
"""

from __future__ import annotations

import base64
import fcntl
import os
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


class GitCommandError(RuntimeError):
    pass


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "GIT_TERMINAL_PROMPT": "0", "LANG": "C.UTF-8", "GIT_CONFIG_NOSYSTEM": "1", **(extra or {})}


def run_git(args: list[str], cwd: Path | None = None, *, env: dict[str, str] | None = None,
            input: bytes | None = None, stdout=subprocess.PIPE, timeout: float = 300, check: bool = True,
            error: type[Exception] = GitCommandError) -> subprocess.CompletedProcess:
    """``git *args``; a failure raises ``error`` with the end of git's stderr (``check=False``: returned)."""
    proc = subprocess.run(["git", *args], cwd=cwd, env=git_env(env), input=input, stdout=stdout,
                          stderr=subprocess.PIPE, timeout=timeout)
    if check and proc.returncode != 0:
        raise error(f"git {args[0]} failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-800:]}")
    return proc


def auth_env(token: str | None) -> dict[str, str]:
    """Git config for one fetch or push, passed in the environment (GIT_CONFIG_*), never written to disk."""
    if not token:
        return {}
    basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "http.extraHeader",
            "GIT_CONFIG_VALUE_0": f"Authorization: Basic {basic}"}


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock on ``path``, across threads and processes, held for the block."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def locked_bare_repo(bare: Path, lock: Path, error: type[Exception] = GitCommandError) -> Iterator[Path]:
    """A bare repository (created on first use) that only this block uses until it ends."""
    with file_lock(lock):
        if not (bare / "HEAD").exists():
            bare.parent.mkdir(parents=True, exist_ok=True)
            run_git(["init", "--bare", "--quiet", str(bare)], error=error)
        yield bare
