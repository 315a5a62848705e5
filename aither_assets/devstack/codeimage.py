"""The production code image: Debian's Python (the local base image) plus this project's wheels.

Every run of the production profile starts in a container of this image (dagster-docker's
DockerRunLauncher), and the code server runs in one too, so the runs' entry point is the image's
interpreter. Nothing is pulled from an image registry:

- the OS layer is the locally built base (devstack base images from Debian packages) plus the
  Debian packages the control plane needs on top (git, and the shared libraries of the stdlib
  modules the base leaves out: sqlite3, ctypes, uuid, bz2, lzma), resolved by apt with their
  dependencies and unpacked with ``dpkg-deb -x``; the host's static Docker CLI for validation;
- the Python layer is a virtualenv at /opt/aither installed with pip from a wheelhouse made on
  this machine (``pip wheel`` of requirements/production.txt, the locked pins, and of the project).

The tag is ``aither/code:<project version>-<hash of every input>``; an image with that tag is
reused, so an unchanged tree builds nothing. External commands get argument lists, never a shell.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCK_FILE = PROJECT_ROOT / "requirements" / "production.txt"
REPOSITORY = "aither/code"
CACHE_DIR = Path.home() / ".cache" / "aither"
VENV = "/opt/aither"
#: Bump when the recipe changes in a way the inputs below do not show.
RECIPE_VERSION = 1
INPUTS_LABEL = "io.aither.code.inputs"

#: Debian packages on top of the base, each with its dependencies (minus what the base has). libstdc++6:
#: grpcio's extension (the code server, run workers) links it. coreutils: Dagster's compute log capture runs tail.
EXTRA_PACKAGES = ("git", "dash", "coreutils", "libstdc++6",
                  "libsqlite3-0", "libffi8", "libuuid1", "libbz2-1.0", "liblzma5")
#: The stdlib extension modules the base removed (their libraries were missing) and this image restores.
RESTORED_EXTENSIONS = ("_sqlite3", "_ctypes", "_uuid", "_bz2", "_lzma")
#: Dependencies not unpacked: maintainer tooling a container never runs.
SKIPPED_PACKAGES = frozenset({"dpkg", "debconf", "init-system-helpers", "usrmerge", "sensible-utils"})


class CodeImageError(RuntimeError):
    """The code image could not be built; the message says which step failed and why."""


@dataclass(frozen=True)
class CodeImage:
    tag: str  # aither/code:<version>-<inputs hash>
    image_id: str
    built: bool  # False: an image with this tag already existed


def _run(argv: list[str], *, what: str, timeout: float = 900, cwd: Path | None = None) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False)
    except FileNotFoundError as exc:
        raise CodeImageError(f"{what}: {argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise CodeImageError(f"{what}: timed out after {timeout:.0f} s") from exc
    if proc.returncode != 0:
        raise CodeImageError(f"{what}: {' '.join(argv[:4])} ... exited {proc.returncode}: "
                             f"{(proc.stderr or proc.stdout).strip()[-1500:]}")
    return proc.stdout


# -- the lock file and the wheelhouse ------------------------------------------------------


def write_lock(python: str = sys.executable, path: Path = LOCK_FILE) -> Path:
    """requirements/production.txt from ``python``'s environment: every distribution, exact pins."""
    frozen = _run([python, "-m", "pip", "freeze", "--exclude-editable"], what="freezing the environment")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("# The production code image's locked requirements: every distribution of the project's venv, "
                    "exact pins.\n# Regenerate after changing pyproject.toml: "
                    "python -m aither_assets.devstack.codeimage --lock\n" + frozen)
    return path


def project_version() -> str:
    return metadata.version("aither-assets")


def _pip_version() -> str:
    return metadata.version("pip")


def build_wheelhouse(target: Path, lock: Path = LOCK_FILE, python: str = sys.executable) -> list[Path]:
    """Wheels of every locked requirement, of pip, and of this project, in ``target`` (pip's cache keeps
    the download once per machine)."""
    target.mkdir(parents=True, exist_ok=True)
    _run([python, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(target), "-r", str(lock),
          f"pip=={_pip_version()}"], what="making the wheelhouse")
    # From a clean copy of the package: setuptools reuses a build/ folder in the tree, and a module moved
    # away since the last build would still be in the wheel.
    with tempfile.TemporaryDirectory(prefix="aither-wheel-") as tmp:
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(PROJECT_ROOT / name, Path(tmp) / name)
        shutil.copytree(PROJECT_ROOT / "aither_assets", Path(tmp) / "aither_assets",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _run([python, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(target), tmp],
             what="building the project's wheel")
    return sorted(target.glob("*.whl"))


# -- the Debian layer ------------------------------------------------------------------------


def _base_packages() -> frozenset[str]:
    from aither_assets.devstack.baseimage import PACKAGES

    return frozenset(PACKAGES)


def extra_debs() -> list[str]:
    """``EXTRA_PACKAGES`` and their dependencies as apt resolves them, minus the base image's packages."""
    out = _run(["apt-cache", "depends", "--recurse", "--no-recommends", "--no-suggests", "--no-conflicts",
                "--no-breaks", "--no-replaces", "--no-enhances", *EXTRA_PACKAGES], what="resolving packages")
    # "name:arm64" lines are the same packages for a foreign architecture dpkg also knows (base images for
    # arm64 add it): this image is the host's architecture only.
    names = {line.strip() for line in out.splitlines() if line and not line.startswith((" ", "<")) and ":" not in line}
    return sorted(names - _base_packages() - SKIPPED_PACKAGES)


def resolve_versions(names: Iterable[str]) -> list[str]:
    """``name_version_arch.deb`` file names apt would download now (the cache key of the OS layer)."""
    out = _run(["apt-get", "download", "--print-uris", *names], what="resolving package versions")
    return sorted(line.split()[1] for line in out.splitlines() if line.startswith("'"))


def download_debs(names: list[str], target: Path) -> list[Path]:
    """The ``.deb`` files of ``names`` in ``target``, downloaded when apt now resolves a version not there."""
    target.mkdir(parents=True, exist_ok=True)
    debs = [target / filename for filename in resolve_versions(names)]
    missing = sorted({deb.name.split("_", 1)[0] for deb in debs if not deb.exists()})
    if missing:
        _run(["apt-get", "-o", "APT::Sandbox::User=root", "download", *missing], what="downloading packages",
             cwd=target)
    absent = [deb.name for deb in debs if not deb.exists()]
    if absent:
        raise CodeImageError(f"apt did not download {absent}")
    return debs


def assemble_overlay(debs: list[Path], stdlib_deb: Path, overlay: Path) -> None:
    """Unpack the extra packages into ``overlay`` (copied over the base image's root)."""
    for deb in debs:
        _run(["dpkg-deb", "-x", str(deb), str(overlay)], what=f"unpacking {deb.name}")
    with tempfile.TemporaryDirectory(prefix="aither-stdlib-") as tmp:
        _run(["dpkg-deb", "-x", str(stdlib_deb), tmp], what="unpacking the stdlib modules")
        dynload = Path(tmp) / "usr/lib/python3.11/lib-dynload"
        target = overlay / "usr/lib/python3.11/lib-dynload"
        target.mkdir(parents=True, exist_ok=True)
        for module in dynload.glob("*.so"):
            if module.name.split(".")[0] in RESTORED_EXTENSIONS:
                shutil.copy2(module, target / module.name)
    # git and Python's subprocess may ask for /bin/sh (hooks, aliases): dash, as on Debian.
    sh = overlay / "bin" / "sh"
    if not sh.exists() and (overlay / "bin" / "dash").exists():
        sh.symlink_to("dash")
    docker_cli = shutil.which("docker")
    if docker_cli:  # validation's `docker compose config` probe; the engine is reached through the socket
        (overlay / "usr/local/bin").mkdir(parents=True, exist_ok=True)
        shutil.copy2(docker_cli, overlay / "usr/local/bin/docker")
    for path in ("root", "tmp"):
        (overlay / path).mkdir(exist_ok=True)


# -- the image ----------------------------------------------------------------------------------


DOCKERFILE = f"""\
# Made by aither_assets/devstack/codeimage.py: no RUN needs a shell, nothing is pulled.
ARG BASE_IMAGE
FROM $BASE_IMAGE AS install
USER 0
COPY wheelhouse/ /wheelhouse/
RUN ["/usr/bin/python3", "-m", "venv", "--without-pip", "{VENV}"]
RUN ["{VENV}/bin/python", "/wheelhouse/PIP_WHEEL/pip", "install", "--no-index", "--no-cache-dir", \
     "--find-links", "/wheelhouse", "-r", "/wheelhouse/production.txt", "/wheelhouse/PROJECT_WHEEL"]

FROM $BASE_IMAGE
USER 0
COPY rootfs/ /
COPY --from=install {VENV} {VENV}
COPY dg.toml {VENV}/lib/python3.11/site-packages/dg.toml
ENV PATH={VENV}/bin:/usr/local/bin:/usr/bin:/bin HOME=/root
WORKDIR /root
CMD ["dagster", "--version"]
"""


def dg_toml(pyproject: Path = PROJECT_ROOT / "pyproject.toml") -> str:
    """The project's [tool.dg] settings as a dg.toml: installed from a wheel, the package has no pyproject.toml
    above it, and load_from_defs_folder finds the defs module through this file beside it."""
    import tomllib

    dg = tomllib.loads(pyproject.read_text())["tool"]["dg"]
    lines = [f'directory_type = "{dg["directory_type"]}"', "", "[project]"]
    lines += [f'{key} = "{value}"' for key, value in dg["project"].items()]
    return "\n".join(lines) + "\n"


def _tree_digest(root: Path, digest) -> None:
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")


def inputs_digest(base_id: str, debs: list[str], lock: Path = LOCK_FILE) -> str:
    """Hash of everything the image is made of: recipe, base image, Debian packages, locked wheels,
    the project's source and packaging, the Docker CLI copied in."""
    digest = hashlib.sha256()
    digest.update(json.dumps({"recipe": RECIPE_VERSION, "dockerfile": DOCKERFILE, "base": base_id, "debs": debs,
                              "extras": [EXTRA_PACKAGES, RESTORED_EXTENSIONS]}, sort_keys=True).encode())
    digest.update(lock.read_bytes())
    digest.update((PROJECT_ROOT / "pyproject.toml").read_bytes())
    _tree_digest(PROJECT_ROOT / "aither_assets", digest)
    docker_cli = shutil.which("docker")
    if docker_cli:
        digest.update(Path(docker_cli).read_bytes())
    return digest.hexdigest()[:12]


def _image_id(tag: str) -> str | None:
    proc = subprocess.run(["docker", "image", "inspect", "--format", "{{.Id}}", tag], capture_output=True,
                          text=True, timeout=60, check=False)
    return proc.stdout.strip() if proc.returncode == 0 else None


def _context_tar(context: Path) -> io.BytesIO:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(context, arcname=".")
    buffer.seek(0)
    return buffer


def ensure_code_image(cache_dir: Path = CACHE_DIR, lock: Path = LOCK_FILE, log=print) -> CodeImage:
    """Build (or reuse) the code image for the current tree; also tag it ``aither/code:<version>``."""
    import docker

    from aither_assets.devstack.baseimage import ensure_base_images
    from aither_assets.runtime.gitcmd import file_lock

    base_id = ensure_base_images(["linux/amd64"])["linux/amd64"]
    names = extra_debs()
    debs = resolve_versions([*names, "libpython3.11-stdlib"])
    version = project_version()
    tag = f"{REPOSITORY}:{version}-{inputs_digest(base_id, debs, lock)}"
    with file_lock(cache_dir / "code-image.lock"):  # one build per machine at a time
        existing = _image_id(tag)
        if existing:
            _run(["docker", "tag", tag, f"{REPOSITORY}:{version}"], what="tagging the code image")
            return CodeImage(tag, existing, built=False)
        log(f"building the code image {tag} (wheels from requirements/production.txt, {len(names)} Debian "
            "packages on the local base) ...")
        # The wheelhouse stays in the cache (pip fills in what a new lock adds); the project's wheel is
        # made from this tree each time.
        cached_wheels = cache_dir / "wheelhouse"
        for stale in cached_wheels.glob("aither_assets-*.whl"):
            stale.unlink()
        build_wheelhouse(cached_wheels, lock)
        with tempfile.TemporaryDirectory(prefix="aither-code-image-") as tmp:
            context = Path(tmp)
            wheelhouse = context / "wheelhouse"
            shutil.copytree(cached_wheels, wheelhouse)
            shutil.copy2(lock, wheelhouse / "production.txt")
            pip_wheel = next(wheelhouse.glob(f"pip-{_pip_version()}-*.whl")).name
            project_wheel = next(wheelhouse.glob(f"aither_assets-{version}-*.whl")).name
            (context / "dg.toml").write_text(dg_toml())
            (context / "Dockerfile").write_text(
                DOCKERFILE.replace("PIP_WHEEL", pip_wheel).replace("PROJECT_WHEEL", project_wheel))
            debs = download_debs([*names, "libpython3.11-stdlib"], cache_dir / "debs" / "code")
            stdlib = next(deb for deb in debs if deb.name.startswith("libpython3.11-stdlib_"))
            assemble_overlay([deb for deb in debs if deb != stdlib], stdlib, context / "rootfs")
            api = docker.APIClient(version="auto", timeout=1800)
            errors, image_id = [], None
            for chunk in api.build(fileobj=_context_tar(context), custom_context=True, tag=tag, pull=False, rm=True,
                                   forcerm=True, decode=True, buildargs={"BASE_IMAGE": base_id},
                                   labels={INPUTS_LABEL: tag.rsplit("-", 1)[1],
                                           "org.opencontainers.image.version": version}):
                if "error" in chunk:
                    errors.append(str(chunk["error"]))
                if isinstance(chunk.get("aux"), dict) and chunk["aux"].get("ID"):
                    image_id = chunk["aux"]["ID"]
            if errors or not image_id:
                raise CodeImageError(f"building {tag} failed: {' '.join(errors) or 'the engine reported no image'}")
        _run(["docker", "tag", tag, f"{REPOSITORY}:{version}"], what="tagging the code image")
        return CodeImage(tag, image_id, built=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aither_assets.devstack.codeimage",
                                     description="Build (or reuse) the production code image.")
    parser.add_argument("--lock", action="store_true", help="rewrite requirements/production.txt from this venv")
    args = parser.parse_args(argv)
    if args.lock:
        print(write_lock())
        return 0
    try:
        image = ensure_code_image()
    except CodeImageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{image.tag} {image.image_id} ({'built' if image.built else 'reused'})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
