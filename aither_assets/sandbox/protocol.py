"""What goes into a sandbox container and what comes out of it. Pure: no Docker.

In: a JSON header line then a tar of the working tree (see ``launcher.py``). Out: the
launcher's base64 tar between marker lines in the container's stdout. What comes out was
written by PR code's user, so it is read as hostile: only regular files with names we asked
for, bounded in size, decoded as text with replacement, secrets masked.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from aither_assets.sandbox.launcher import BEGIN, END
from aither_assets.sandbox.model import SandboxRequest

#: The unprivileged user every sandboxed command runs as (``nobody`` in the base image).
SANDBOX_UID = 65534
#: Where the runner image keeps the launcher (sandbox/launcher.py), the container's first process.
LAUNCHER_PATH = "/opt/aither/launch.py"
MASK = "***"


def header(request: SandboxRequest) -> bytes:
    data = {
        "argv": list(request.argv),
        "env": request.environment(),
        "timeout": request.timeout,
        "collect": list(request.collect),
        "max_output_bytes": request.max_output_bytes,
        "max_result_bytes": request.max_result_bytes,
    }
    return json.dumps(data).encode() + b"\n"


def pack_tree(root: Path, target: Path) -> Path:
    """Tar ``root`` into ``target``, owned by the sandbox user: files, folders and symlinks only."""

    def own(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if not (info.isfile() or info.isdir() or info.issym()):
            return None  # no devices, fifos or hard links from a tree we export ourselves
        info.uid = info.gid = SANDBOX_UID
        info.uname = info.gname = "nobody"
        info.mode &= 0o755 if info.isdir() or info.mode & 0o100 else 0o644
        return info

    with tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tar:
        for child in sorted(Path(root).iterdir()):
            tar.add(child, arcname=child.name, recursive=True, filter=own)
    return target


@dataclass
class Outcome:
    """The launcher's report, as far as it could be read."""

    status: dict = field(default_factory=dict)
    stdout: bytes = b""
    stderr: bytes = b""
    files: dict[str, bytes] = field(default_factory=dict)
    problem: str | None = None


def read_outcome(logs: bytes, collect: Iterable[str], max_bytes: int) -> Outcome:
    """Decode the last result block of the container's stdout; ``problem`` says why when there is none."""
    text = logs.decode("ascii", errors="replace")
    start = text.rfind(BEGIN)
    stop = text.find(END, start + 1) if start >= 0 else -1
    if start < 0 or stop < 0:
        return Outcome(problem="the sandbox returned no result (its first process ended before reporting)")
    try:
        raw = base64.b64decode("".join(text[start + len(BEGIN):stop].split()), validate=True)
    except (binascii.Error, ValueError):
        return Outcome(problem="the sandbox's result is not valid base64")
    wanted = {f"results/{name}": name for name in collect}
    outcome = Outcome()
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            for member in tar:
                if not member.isfile() or member.size > max_bytes:
                    continue
                handle = tar.extractfile(member)
                data = handle.read(max_bytes) if handle else b""
                if member.name == "status.json":
                    outcome.status = json.loads(data) if data else {}
                elif member.name in ("stdout", "stderr"):
                    setattr(outcome, member.name, data)
                elif member.name in wanted:
                    outcome.files[wanted[member.name]] = data
    except (tarfile.TarError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        return Outcome(problem=f"the sandbox's result cannot be read: {exc}")
    if not isinstance(outcome.status, dict):
        outcome.status = {}
    return outcome


def scrub(data: bytes, secrets: Iterable[str]) -> tuple[bytes, bool]:
    """Mask every secret value in ``data``; True when one was there."""
    found = False
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        token = secret.encode()
        if token in data:
            found = True
            data = data.replace(token, MASK.encode())
    return data, found
