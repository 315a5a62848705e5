"""The dev stack's runner image for sandboxed PR commands, built locally from Debian packages.

The product takes runner images by reference (the operator lists them, ``sandbox.runner_images``);
the demo, the tests and the benchmarks build this one.

``FROM`` the local Python base image (``aither_assets.devstack.baseimage``: Debian bookworm packages,
no registry), plus pytest and its dependencies unpacked from their ``.deb`` files, the ruff
binary that ships in our own venv (a wheel from PyPI: the linter step's tool, so the image
runs the same ruff version as the plain script), ``python`` as a name for ``python3``, and
the sandbox launcher. The build runs with ``network_mode=none`` and pulls nothing.

The image is tagged by a hash of everything that goes into it
(``aither/sandbox-runner:c-<hash>``) and reused while that tag exists; the stable name the
configs use (:data:`aither_assets.config.operator.DEFAULT_RUNNER_IMAGE`) is pointed at it.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
from pathlib import Path

from aither_assets.config.operator import DEFAULT_RUNNER_IMAGE
from aither_assets.devstack import baseimage as base
from aither_assets.runtime.gitcmd import file_lock
from aither_assets.sandbox import launcher
from aither_assets.sandbox.protocol import LAUNCHER_PATH, SANDBOX_UID
from aither_assets.validation.tools import tool_path

#: Debian packages added to the base image: pytest (Depends resolved by hand, first alternatives
#: that Python 3.11 does not already provide) and libgcc-s1, which the ruff binary links.
PACKAGES: tuple[str, ...] = (
    "libgcc-s1",
    "python3-pytest",
    "python3-pluggy",
    "python3-iniconfig",
    "python3-packaging",
    "python3-py",
    "python3-attr",
    "python3-more-itertools",
    "python3-pkg-resources",
    "python3-exceptiongroup",
)
#: Bump when the recipe changes in a way the inputs above do not show.
RECIPE_VERSION = 1
HASH_LABEL = "io.aither.sandbox.recipe"

DOCKERFILE = f"""\
FROM {{base}}
COPY rootfs/ /
USER {SANDBOX_UID}:{SANDBOX_UID}
WORKDIR /work
CMD ["python3", "{LAUNCHER_PATH}"]
"""


class RunnerImageError(RuntimeError):
    """The runner image could not be built; the message says which step failed."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _ruff() -> Path:
    found = tool_path("ruff")
    if not found:
        raise RunnerImageError("ruff is not installed next to this interpreter (pip install ruff)")
    return Path(found).resolve()


def content_hash(base_id: str, debs: list[Path], ruff: Path) -> str:
    recipe = {
        "version": RECIPE_VERSION,
        "base": base_id,
        "debs": [deb.name for deb in debs],
        "ruff": _sha256(ruff),
        "launcher": hashlib.sha256(Path(launcher.__file__).read_bytes()).hexdigest(),
        "dockerfile": DOCKERFILE,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def _rootfs(tmp: Path, debs: list[Path], ruff: Path) -> Path:
    rootfs = tmp / "rootfs"
    for deb in debs:
        base._run(["dpkg-deb", "-x", str(deb), str(rootfs)], what=f"unpacking {deb.name}")
    for junk in ("usr/share/doc", "usr/share/man", "usr/share/lintian", "usr/lib/gcc"):
        shutil.rmtree(rootfs / junk, ignore_errors=True)
    bin_dir = rootfs / "usr/local/bin"
    bin_dir.mkdir(parents=True, exist_ok=True)
    shutil.copy2(ruff, bin_dir / "ruff")
    (bin_dir / "python").symlink_to("/usr/bin/python3.11")
    (bin_dir / "pytest").write_text("#!/usr/bin/python3\nimport sys\nimport pytest\nsys.exit(pytest.console_main())\n")
    (bin_dir / "pytest").chmod(0o755)
    target = rootfs / LAUNCHER_PATH.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(launcher.__file__, target)
    # Byte-compile what we add: the root filesystem is read-only, so nothing compiles at run time.
    if sys.implementation.name == "cpython" and sys.version_info[:2] == (3, 11):
        base._run([sys.executable, "-m", "compileall", "-q", "-j", "0", "-s", str(rootfs), "-p", "/",
                   str(rootfs / "usr/lib/python3"), str(target)], what="byte-compiling the runner's packages")
    return rootfs


def ensure_runner_image(
    tag: str = DEFAULT_RUNNER_IMAGE,
    base_tag: str = base.DEFAULT_TAG,
    cache_dir: Path = base.DEFAULT_CACHE_DIR,
    *,
    force: bool = False,
) -> str:
    """Build (or reuse) the runner image and point ``tag`` at it; return the content tag."""
    import docker

    arch = base.arch_for(base.DEFAULT_PLATFORM)
    base_id = base.build_python_base(base_tag, base.DEFAULT_PLATFORM, cache_dir)
    runner_cache = Path(cache_dir) / "runner"
    with file_lock(runner_cache / arch / ".lock"):
        debs = base.download_debs(arch, runner_cache, PACKAGES)
        ruff = _ruff()
        digest = content_hash(base_id, debs, ruff)
        repository = tag.rsplit(":", 1)[0]
        content_tag = f"{repository}:c-{digest}"
        api = docker.APIClient(version="auto")
        try:
            if force or not _exists(api, content_tag):
                _build(api, content_tag, base_tag, debs, ruff, digest)
            repo, _, name = tag.rpartition(":")
            api.tag(content_tag, repo, name, force=True)
            _drop_older(api, repository, content_tag)
        finally:
            api.close()
    return content_tag


def ensure_runner_image_present(tag: str = DEFAULT_RUNNER_IMAGE) -> str:
    """``tag`` if the engine has it (one inspect), else build it: the cheap check a run makes at its start."""
    import docker

    api = docker.APIClient(version="auto")
    try:
        if _exists(api, tag):
            return tag
    finally:
        api.close()
    return ensure_runner_image(tag)


def _drop_older(api, repository: str, keep: str) -> None:
    """Untag earlier content tags of this recipe (best effort: an image a container still uses stays)."""
    import docker

    for image in api.images(name=repository):
        for old in image.get("RepoTags") or []:
            if old != keep and old.startswith(f"{repository}:c-"):
                try:
                    api.remove_image(old)
                except docker.errors.APIError:
                    pass


def _exists(api, tag: str) -> bool:
    import docker

    try:
        api.inspect_image(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _build(api, content_tag: str, base_tag: str, debs: list[Path], ruff: Path, digest: str) -> None:
    with tempfile.TemporaryDirectory(prefix="aither-runner-") as tmp:
        context = Path(tmp)
        _rootfs(context, debs, ruff)
        (context / "Dockerfile").write_text(DOCKERFILE.format(base=base_tag))
        error, lines = "", []
        for chunk in api.build(path=str(context), tag=content_tag, network_mode="none", pull=False, rm=True,
                               forcerm=True, decode=True, labels={HASH_LABEL: digest}):
            if "stream" in chunk:
                lines.append(str(chunk["stream"]).rstrip())
            if "error" in chunk:
                error = str(chunk["error"])
        if error:
            raise RunnerImageError(f"building {content_tag} failed: {error}; " + " | ".join(lines[-10:]))


def main() -> int:
    started = __import__("time").monotonic()
    try:
        tag = ensure_runner_image(force="--force" in sys.argv[1:])
    except (RunnerImageError, base.BaseImageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{DEFAULT_RUNNER_IMAGE} -> {tag} ({__import__('time').monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
