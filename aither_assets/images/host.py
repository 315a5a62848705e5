"""What this machine's Docker engine can do: is it there, which platforms can it run, what is an image.

The product's image build (``images/build.py``) asks these questions. Base images reach the build
by reference (operator config ``images.base_images``); ``aither base-image`` builds local ones.
Commands are argument lists, never shell strings.
"""

from __future__ import annotations

import json
import platform as _platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

#: Docker platform -> Debian architecture.
PLATFORM_ARCH = {"linux/amd64": "amd64", "linux/arm64": "arm64"}

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")
#: ELF header magic and mask of an aarch64 executable, as binfmt_misc handlers register it.
_AARCH64_MAGIC = "7f454c460201010000000000000000000200b700"
ARM64_FIX = (
    "apt-get install -y qemu-user-static binfmt-support && update-binfmts --enable qemu-aarch64"
)


class DockerCommandError(RuntimeError):
    """A docker (or other host) command failed; the message says which and why."""


def run_checked(argv: Sequence[str], *, what: str, timeout: float = 600, error: type[Exception] | None = None,
                **kwargs) -> subprocess.CompletedProcess[str]:
    """Run ``argv`` (no shell); raise ``error`` naming ``what`` when it is missing, times out or fails."""
    error = error or DockerCommandError
    try:
        result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout, check=False, **kwargs)
    except FileNotFoundError as exc:
        raise error(f"{what}: {argv[0]} is not installed ({exc})") from exc
    except subprocess.TimeoutExpired as exc:
        raise error(f"{what}: {' '.join(argv)} timed out after {timeout:.0f}s") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise error(f"{what}: {' '.join(argv)} exited {result.returncode}: {detail}")
    return result


def docker_available() -> tuple[bool, str]:
    """Whether a Docker engine answers, and its server version or the error."""
    try:
        result = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"],
            capture_output=True, text=True, timeout=20, check=False,
        )
    except FileNotFoundError:
        return False, "docker CLI is not installed"
    except subprocess.TimeoutExpired:
        return False, "docker engine did not answer within 20s"
    if result.returncode != 0:
        return False, (result.stderr.strip() or "docker engine did not answer")
    return True, result.stdout.strip()


def image_info(tag: str) -> dict | None:
    """``docker image inspect`` of ``tag``, or ``None`` when there is no such local image."""
    try:
        result = subprocess.run(
            ["docker", "image", "inspect", tag], capture_output=True, text=True, timeout=60, check=False
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    data = json.loads(result.stdout)
    return data[0] if data else None


def image_platform(info: dict) -> str:
    """``os/architecture`` of an inspected image, e.g. ``linux/arm64``."""
    return f"{info.get('Os', '')}/{info.get('Architecture', '')}"


def run_python(tag: str, code: str, platform: str | None = None, timeout: float = 300) -> str:
    """Run ``python3 -c code`` in a throwaway container of ``tag``; return its stdout."""
    argv = ["docker", "run", "--rm", "--network", "none"]
    if platform:
        argv += ["--platform", platform]
    argv += [tag, "python3", "-c", code]
    return run_checked(argv, what=f"running python in {tag}", timeout=timeout).stdout


def _binfmt_handlers() -> dict[str, dict[str, str]]:
    handlers = {}
    for entry in BINFMT_DIR.iterdir():
        if entry.name in ("register", "status"):
            continue
        fields: dict[str, str] = {}
        try:
            for line in entry.read_text().splitlines():
                if line in ("enabled", "disabled"):
                    fields["state"] = line
                else:
                    key, _, value = line.partition(" ")
                    fields[key.rstrip(":")] = value.strip()
        except OSError:
            continue
        handlers[entry.name] = fields
    return handlers


def arm64_emulation_available(probe_image: str | None = None) -> tuple[bool, str]:
    """Whether linux/arm64 containers can run here, and why not (with the fix) if they cannot.

    Checks the kernel's binfmt_misc registration of an aarch64 interpreter (qemu) with the
    ``F`` flag, which containers need because they cannot see the host's interpreter path.
    With ``probe_image`` (a local linux/arm64 image with python3), also runs it and checks
    that ``platform.machine()`` says ``aarch64``.
    """
    if _platform.machine().lower() in ("aarch64", "arm64"):
        return True, "native arm64 host: no emulation needed"
    if not (BINFMT_DIR / "status").exists():
        return False, (
            "binfmt_misc is not mounted: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc, then "
            + ARM64_FIX
        )
    if (BINFMT_DIR / "status").read_text().strip() != "enabled":
        return False, "binfmt_misc is disabled: echo 1 > /proc/sys/fs/binfmt_misc/status"
    handlers = {n: f for n, f in _binfmt_handlers().items() if f.get("magic", "").startswith(_AARCH64_MAGIC)}
    if not handlers:
        return False, f"binfmt handler for aarch64 not registered: {ARM64_FIX}"
    name, fields = next(iter(sorted(handlers.items())))
    interpreter = fields.get("interpreter", "?")
    if fields.get("state") != "enabled":
        return False, f"binfmt handler {name} is disabled: update-binfmts --enable {name}"
    if "F" not in fields.get("flags", ""):
        return False, (
            f"binfmt handler {name} lacks the F (fix-binary) flag, so containers cannot reach "
            f"{interpreter}: update-binfmts --disable {name} && apt-get install --reinstall -y qemu-user-static "
            f"&& update-binfmts --enable {name}"
        )
    detail = f"binfmt handler {name} -> {interpreter} (flags {fields.get('flags', '')})"
    if probe_image:
        try:
            machine = run_python(probe_image, "import platform; print(platform.machine())", "linux/arm64").strip()
        except DockerCommandError as exc:
            return False, f"{detail}, but running {probe_image} failed: {exc}"
        if machine != "aarch64":
            return False, f"{detail}, but {probe_image} reports machine {machine!r}"
        detail += f"; {probe_image} runs as aarch64"
    return True, detail
