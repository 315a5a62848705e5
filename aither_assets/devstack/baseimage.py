"""Minimal Python 3.11 base images, made locally from Debian bookworm packages.

Nothing is pulled from an image registry. The ``.deb`` files come from the host's apt
sources (``apt-get download``, cached and checked against apt's SHA256), are unpacked with
``dpkg-deb -x`` into a root filesystem, trimmed, and turned into a single-layer image with
``docker import``. The image runs ``python3 -m app`` for a stdlib-only application as the
unprivileged user ``app`` (uid 10001); it has no shell, no package manager and no curl.

One local tag holds one platform (the classic Docker image store has no multi-platform
tags), so the default tag is the linux/amd64 image and other platforms get a suffixed tag:
see :func:`base_image_for`. Building an arm64 image needs no emulation (nothing runs inside
the image while it is made); *running* it on an amd64 host does: see
:func:`aither_assets.images.host.arm64_emulation_available`.

External commands are always run with argument lists, never through a shell.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from aither_assets.images.host import (
    PLATFORM_ARCH,
    DockerCommandError,
    arm64_emulation_available,
    docker_available,
    image_info,
    image_platform,
    run_checked,
)
from aither_assets.runtime.gitcmd import file_lock

DEFAULT_TAG = "aither/python-base:3.11-bookworm"
DEFAULT_PLATFORM = "linux/amd64"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "aither" / "debs"

#: Debian architecture -> multiarch library directory name.
MULTIARCH = {"amd64": "x86_64-linux-gnu", "arm64": "aarch64-linux-gnu"}

#: The whole package set, in unpack order. Found empirically: the interpreter links libc,
#: libz and libexpat; ``http``, ``email``, ``json`` and ``urllib`` live in libpython3.11-stdlib.
PACKAGES: tuple[str, ...] = (
    "base-files",  # FHS skeleton, /tmp with the sticky bit, /etc/os-release
    "libc6",
    "zlib1g",  # needed by /usr/bin/python3.11
    "libexpat1",  # needed by /usr/bin/python3.11
    "libpython3.11-minimal",
    "python3.11-minimal",
    "libpython3.11-stdlib",
    "libssl3",  # ssl and the OpenSSL-backed hashlib (urllib.request works without it, https does not)
    "ca-certificates",  # the CA bundle for HTTPS clients
)
#: ``Architecture: all`` packages: ``apt-get download NAME:arm64`` finds no candidate for them.
ARCH_INDEPENDENT = frozenset({"ca-certificates"})

#: Extension modules whose shared libraries are deliberately not installed (checked with
#: ``readelf -d``), mapped to the package they would need. They are removed so that the
#: image holds no module that cannot load.
UNLOADABLE_EXTENSIONS = {
    "_bz2": "libbz2-1.0",
    "_lzma": "liblzma5",
    "_ctypes": "libffi8",
    "_curses": "libncursesw6",
    "_curses_panel": "libncursesw6",
    "readline": "libreadline8",
    "_dbm": "libdb5.3",
    "_sqlite3": "libsqlite3-0",
    "nis": "libnsl2",
    "_crypt": "libcrypt1",
    "_uuid": "libuuid1",
}
#: CPython's own test extension modules (name prefixes).
TEST_EXTENSION_PREFIXES = ("_test", "_ctypes_test", "_xxtestfuzz", "xxlimited")

#: Paths removed from the root filesystem (``{multiarch}`` is filled in).
PRUNE = (
    "usr/share/man",
    "usr/share/info",
    "usr/share/lintian",
    "usr/share/locale",
    "usr/share/base-files",
    "usr/share/ca-certificates",  # folded into /etc/ssl/certs/ca-certificates.crt
    "usr/sbin/update-ca-certificates",  # a shell script; there is no shell
    "etc/update-motd.d",
    "usr/lib/binfmt.d",
    "usr/lib/{multiarch}/gconv",  # iconv modules: Python has its own codecs
    "usr/lib/python3.11/test",
    "usr/lib/python3.11/pydoc_data",
    "usr/lib/python3.11/turtle.py",
)

APP_USER = "app"
APP_UID = 10001
APP_HOME = "/home/app"
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONUNBUFFERED": "1",
    "SSL_CERT_FILE": CA_BUNDLE,
}

#: Bump when the recipe changes in a way the constants above do not show.
RECIPE_VERSION = 1
RECIPE_LABEL = "io.aither.base.recipe"
PACKAGES_LABEL = "io.aither.base.packages"



class BaseImageError(DockerCommandError):
    """A base image could not be built; the message says which step failed and why."""


def _run(argv: Sequence[str], *, what: str, timeout: float = 600, **kwargs) -> subprocess.CompletedProcess[str]:
    return run_checked(argv, what=what, timeout=timeout, error=BaseImageError, **kwargs)


@dataclass(frozen=True)
class Deb:
    """One package as apt resolves it: where it is cached and what it must hash to."""

    name: str
    filename: str
    size: int
    digest_algo: str
    digest: str


# --------------------------------------------------------------------------- helpers


def arch_for(platform: str) -> str:
    """Debian architecture for a Docker platform string, e.g. ``linux/arm64`` -> ``arm64``."""
    try:
        return PLATFORM_ARCH[platform]
    except KeyError:
        raise ValueError(f"unsupported platform {platform!r}; supported: {sorted(PLATFORM_ARCH)}") from None


def base_image_for(platform: str, tag: str = DEFAULT_TAG) -> str:
    """The local tag of the base image for ``platform``.

    linux/amd64 uses ``tag`` itself (the Dockerfile default); any other platform uses
    ``<tag>-<arch>``, e.g. ``aither/python-base:3.11-bookworm-arm64``, because one tag in
    the local image store can only point at one platform's image.
    """
    arch = arch_for(platform)
    return tag if platform == DEFAULT_PLATFORM else f"{tag}-{arch}"


def recipe_digest() -> str:
    """Short hash of everything that shapes the image except package versions."""
    recipe = {
        "version": RECIPE_VERSION,
        "packages": PACKAGES,
        "unloadable": sorted(UNLOADABLE_EXTENSIONS),
        "tests": TEST_EXTENSION_PREFIXES,
        "prune": PRUNE,
        "env": ENV,
        "user": [APP_USER, APP_UID, APP_HOME],
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


# --------------------------------------------------------------------------- apt side


def native_arch() -> str:
    """The host's Debian architecture (``dpkg --print-architecture``)."""
    return _run(["dpkg", "--print-architecture"], what="detecting the host architecture").stdout.strip()


def ensure_foreign_architecture(arch: str) -> bool:
    """Make apt able to download ``arch`` packages; return True when something had to change.

    Idempotent: ``dpkg --add-architecture`` only when the architecture is missing, and
    ``apt-get update`` only when apt has no package lists for it yet.
    """
    if arch == native_arch():
        return False
    changed = False
    foreign = _run(["dpkg", "--print-foreign-architectures"], what="listing dpkg architectures").stdout.split()
    if arch not in foreign:
        _run(["dpkg", "--add-architecture", arch], what=f"adding the {arch} architecture to dpkg")
        changed = True
    probe = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", f"libc6:{arch}"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    if changed or probe.returncode != 0 or not probe.stdout.strip():
        _run(["apt-get", "update"], what=f"fetching apt lists for {arch}", timeout=900)
        changed = True
    return changed


def _apt_names(arch: str, packages: Sequence[str] = PACKAGES) -> list[str]:
    return [name if name in ARCH_INDEPENDENT else f"{name}:{arch}" for name in packages]


def resolve_debs(arch: str, packages: Sequence[str] = PACKAGES) -> list[Deb]:
    """What apt would download for ``arch`` right now: file names, sizes and hashes."""
    names = _apt_names(arch, packages)
    result = _run(["apt-get", "download", "--print-uris", *names], what=f"resolving {arch} packages")
    debs = []
    for line in result.stdout.splitlines():
        parts = line.split()
        if len(parts) != 4 or not parts[0].startswith("'"):
            continue
        filename, size, digest = parts[1], int(parts[2]), parts[3]
        algo, _, hexdigest = digest.partition(":")
        debs.append(Deb(filename.split("_", 1)[0], filename, size, algo.lower().replace("sum", ""), hexdigest.lower()))
    by_name = {deb.name: deb for deb in debs}
    missing = [name for name in packages if name not in by_name]
    if missing:
        raise BaseImageError(f"apt did not resolve {missing} for {arch}: {result.stdout.strip()}")
    return [by_name[name] for name in packages]


def package_version(filename: str) -> str:
    """``name=version`` from a .deb file name.

    E.g. ``zlib1g_1%3a1.2.13.dfsg-1_amd64.deb`` -> ``zlib1g=1:1.2.13.dfsg-1``.
    """
    name, version, _ = unquote(filename).removesuffix(".deb").split("_", 2)
    return f"{name}={version}"


def _file_ok(path: Path, deb: Deb) -> bool:
    if not path.is_file() or path.stat().st_size != deb.size:
        return False
    digest = hashlib.new(deb.digest_algo)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest() == deb.digest


def download_debs(arch: str, cache_dir: Path = DEFAULT_CACHE_DIR, packages: Sequence[str] = PACKAGES) -> list[Path]:
    """Download (or reuse from ``cache_dir/<arch>``) the ``.deb`` files of ``packages`` (:data:`PACKAGES`).

    Cached files are reused only when their size and hash match what apt resolves now;
    older versions of the same packages are removed from the cache.
    """
    ensure_foreign_architecture(arch)
    target = Path(cache_dir) / arch
    target.mkdir(parents=True, exist_ok=True)
    debs = resolve_debs(arch, packages)
    wanted = [deb for deb in debs if not _file_ok(target / deb.filename, deb)]
    if wanted:
        argv = ["apt-get"]
        if os.geteuid() == 0:  # let apt write into a root-owned cache without its _apt sandbox
            argv += ["-o", "APT::Sandbox::User=root"]
        by_name = {deb.name: deb for deb in wanted}
        argv += ["download", *[n for n in _apt_names(arch, packages) if n.split(":")[0] in by_name]]
        _run(argv, what=f"downloading {arch} packages", cwd=target, timeout=900)
        bad = [deb.filename for deb in wanted if not _file_ok(target / deb.filename, deb)]
        if bad:
            raise BaseImageError(f"downloaded packages do not match apt's hashes: {bad}")
    current = {deb.filename for deb in debs}
    for stale in target.glob("*.deb"):
        if stale.name not in current and stale.name.split("_", 1)[0] in packages:
            stale.unlink()
    return [target / deb.filename for deb in debs]


# --------------------------------------------------------------------------- rootfs


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def assemble_rootfs(debs: Iterable[Path], rootfs: Path, arch: str) -> None:
    """Unpack ``debs`` into ``rootfs`` and turn it into a runnable, trimmed Python root."""
    rootfs.mkdir(parents=True, exist_ok=True)
    status_dir = rootfs / "var/lib/dpkg/status.d"
    status_dir.mkdir(parents=True, exist_ok=True)
    for deb in debs:
        _run(["dpkg-deb", "-x", str(deb), str(rootfs)], what=f"unpacking {deb.name}")
        control = _run(["dpkg-deb", "-f", str(deb)], what=f"reading the control file of {deb.name}").stdout
        package = deb.name.split("_", 1)[0]
        # distroless-style package records, so image scanners can tell what is installed
        (status_dir / package).write_text(control.rstrip("\n") + "\nStatus: install ok installed\n")

    _build_ca_bundle(rootfs)
    for pattern in PRUNE:
        _remove(rootfs / pattern.format(multiarch=MULTIARCH[arch]))
    _prune_docs(rootfs / "usr/share/doc")
    _prune_extensions(rootfs / "usr/lib/python3.11/lib-dynload")

    (rootfs / "usr/bin/python3").symlink_to("python3.11")
    (rootfs / "usr/local/bin").mkdir(parents=True, exist_ok=True)
    etc = rootfs / "etc"
    (etc / "passwd").write_text(
        "root:x:0:0:root:/root:/usr/sbin/nologin\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        f"{APP_USER}:x:{APP_UID}:{APP_UID}:{APP_USER}:{APP_HOME}:/usr/sbin/nologin\n"
    )
    (etc / "group").write_text(f"root:x:0:\nnogroup:x:65534:\n{APP_USER}:x:{APP_UID}:\n")
    # without this file glibc asks DNS before /etc/hosts
    (etc / "nsswitch.conf").write_text("passwd: files\ngroup: files\nhosts: files dns\nservices: files\n")
    (rootfs / APP_HOME.lstrip("/")).mkdir(parents=True, exist_ok=True)
    (rootfs / "tmp").mkdir(exist_ok=True)
    _precompile(rootfs)


def _build_ca_bundle(rootfs: Path) -> None:
    """Do what ca-certificates' postinst would: concatenate the CAs into one bundle."""
    certs = sorted((rootfs / "usr/share/ca-certificates").rglob("*.crt"))
    if not certs:
        return
    bundle = rootfs / CA_BUNDLE.lstrip("/")
    bundle.parent.mkdir(parents=True, exist_ok=True)
    with open(bundle, "w") as out:
        for cert in certs:
            text = cert.read_text()
            out.write(text if text.endswith("\n") else text + "\n")


def _prune_docs(doc_root: Path) -> None:
    """Keep each package's ``copyright`` file (licence terms), drop the rest of the docs."""
    if not doc_root.is_dir():
        return
    for path in sorted(doc_root.rglob("*"), reverse=True):
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif path.name != "copyright":
            path.unlink()


def _prune_extensions(dynload: Path) -> None:
    for module in dynload.glob("*.so"):
        name = module.name.split(".", 1)[0]
        if name in UNLOADABLE_EXTENSIONS or name.startswith(TEST_EXTENSION_PREFIXES):
            module.unlink()


def _precompile(rootfs: Path) -> None:
    """Byte-compile the stdlib so that the unprivileged user never compiles at start-up.

    Bytecode is architecture-independent, so the host's interpreter can do it when it is
    CPython 3.11 (same magic number); otherwise the image simply ships without ``.pyc``.
    """
    if sys.implementation.name != "cpython" or sys.version_info[:2] != (3, 11):
        return
    stdlib = rootfs / "usr/lib/python3.11"
    _run(
        [
            sys.executable, "-m", "compileall", "-q", "-j", "0",
            "-s", str(rootfs), "-p", "/",
            "-x", r"sitecustomize\.py$",  # a symlink to /etc/python3.11 (absolute: would hit the host)
            str(stdlib),
        ],
        what="byte-compiling the standard library",
    )


def write_rootfs_tar(rootfs: Path, tar_path: Path) -> None:
    """Archive ``rootfs`` with root ownership, except the app user's home."""
    home = APP_HOME.lstrip("/")

    def owner(info: tarfile.TarInfo) -> tarfile.TarInfo:
        name = info.name.lstrip("./")
        if name == home or name.startswith(home + "/"):
            info.uid = info.gid = APP_UID
            info.uname = info.gname = APP_USER
        else:
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
        if name == "tmp":
            info.mode = 0o1777
        return info

    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for child in sorted(rootfs.iterdir()):
            tar.add(child, arcname=child.name, recursive=True, filter=owner)


# --------------------------------------------------------------------------- docker side


IMAGE_COMMENT = "aither base image from Debian bookworm packages"


def _labels(packages: str) -> dict[str, str]:
    return {
        RECIPE_LABEL: recipe_digest(),
        PACKAGES_LABEL: packages,
        "org.opencontainers.image.description": "Minimal Python 3.11 from Debian bookworm packages",
        "org.opencontainers.image.base.name": "scratch",
    }


def _import(tar_path: Path, tag: str, platform: str, packages: str) -> str:
    """``docker import --platform`` the root filesystem and tag it; return the image id.

    Docker engines before 23.0 only honour the OS part of ``--platform`` on import and
    stamp the engine's own architecture on the image. When that happens the imported image
    is discarded and the same layer is loaded with :func:`_load_archive` instead.
    """
    changes = [f"ENV {key}={value}" for key, value in ENV.items()]
    changes += [f"USER {APP_UID}", f"WORKDIR {APP_HOME}", 'CMD ["python3"]']
    changes += [f"LABEL {key}={json.dumps(value)}" for key, value in _labels(packages).items()]
    argv = ["docker", "import", "--platform", platform]
    for change in changes:
        argv += ["-c", change]
    argv += ["-m", IMAGE_COMMENT, str(tar_path)]  # untagged until its platform is checked
    image_id = _run(argv, what=f"importing {tag}", timeout=900).stdout.strip().splitlines()[-1]
    info = image_info(image_id)
    if info is None:
        raise BaseImageError(f"docker import reported {image_id!r} but no such image exists")
    if image_platform(info) != platform:
        subprocess.run(["docker", "image", "rm", image_id], capture_output=True, timeout=120, check=False)
        return _load_archive(tar_path, tag, platform, packages)
    _run(["docker", "tag", image_id, tag], what=f"tagging {tag}")
    return image_id


def _load_archive(tar_path: Path, tag: str, platform: str, packages: str) -> str:
    """``docker load`` a one-layer docker-archive whose config states ``platform`` exactly."""
    os_name, arch = platform.split("/")
    digest = hashlib.sha256()
    with open(tar_path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    config = {
        "architecture": arch,
        "os": os_name,
        "created": now,
        "config": {
            "Env": [f"{key}={value}" for key, value in ENV.items()],
            "User": str(APP_UID),
            "WorkingDir": APP_HOME,
            "Cmd": ["python3"],
            "Labels": _labels(packages),
        },
        "rootfs": {"type": "layers", "diff_ids": [f"sha256:{digest.hexdigest()}"]},
        "history": [{"created": now, "created_by": "aither_assets.devstack.baseimage", "comment": IMAGE_COMMENT}],
    }
    if arch == "arm64":
        config["variant"] = "v8"
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    manifest = [{"Config": config_name, "RepoTags": [tag], "Layers": ["layer.tar"]}]
    archive = tar_path.with_name("image-archive.tar")
    with tarfile.open(archive, "w") as out:
        for name, data in ((config_name, config_bytes), ("manifest.json", json.dumps(manifest).encode())):
            member = tarfile.TarInfo(name)
            member.size, member.mtime = len(data), int(time.time())
            out.addfile(member, io.BytesIO(data))
        out.add(tar_path, arcname="layer.tar")
    _run(["docker", "load", "-i", str(archive)], what=f"loading {tag}", timeout=900)
    archive.unlink()
    info = image_info(tag)
    if info is None or image_platform(info) != platform:
        found = image_platform(info) if info else "nothing"
        raise BaseImageError(f"docker load of {tag} gave {found}, not {platform}")
    return info["Id"]


def _reusable(tag: str, platform: str) -> str | None:
    info = image_info(tag)
    if info is None or image_platform(info) != platform:
        return None
    labels = (info.get("Config") or {}).get("Labels") or {}
    if labels.get(RECIPE_LABEL) != recipe_digest():
        return None
    return info["Id"]


def build_python_base(
    tag: str = DEFAULT_TAG,
    platform: str = DEFAULT_PLATFORM,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    *,
    force: bool = False,
) -> str:
    """Build the minimal Python base image ``tag`` for ``platform``; return its image id.

    An existing local ``tag`` is reused when it is for ``platform`` and was made by this
    recipe (label :data:`RECIPE_LABEL`), unless ``force``. ``.deb`` files are cached under
    ``cache_dir/<arch>``. Remember that a tag holds one platform: use :func:`base_image_for`
    (or :func:`ensure_base_images`) to get a distinct tag per platform.
    """
    arch = arch_for(platform)
    cache_dir = Path(cache_dir)
    with file_lock(cache_dir / arch / ".lock"):  # one build per architecture at a time
        if not force:
            existing = _reusable(tag, platform)
            if existing:
                return existing
        previous = image_info(tag)
        debs = download_debs(arch, cache_dir)
        packages = " ".join(package_version(deb.name) for deb in debs)
        with tempfile.TemporaryDirectory(prefix="aither-base-") as tmp:
            rootfs = Path(tmp) / "rootfs"
            assemble_rootfs(debs, rootfs, arch)
            tar_path = Path(tmp) / "rootfs.tar"
            write_rootfs_tar(rootfs, tar_path)
            image_id = _import(tar_path, tag, platform, packages)
        if previous and previous["Id"] != image_id:
            _remove_if_dangling(previous["Id"])
        return image_id


def _remove_if_dangling(image_id: str) -> None:
    """Remove an image this module replaced, if nothing tags it any more (best effort)."""
    info = image_info(image_id)
    if info is not None and not info.get("RepoTags"):
        subprocess.run(["docker", "image", "rm", image_id], capture_output=True, timeout=120, check=False)


def ensure_base_images(
    platforms: Iterable[str] = (DEFAULT_PLATFORM,),
    *,
    tag: str = DEFAULT_TAG,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    force: bool = False,
) -> dict[str, str]:
    """Build or reuse one base image per platform; map platform -> image id.

    Each platform gets its own tag (:func:`base_image_for`): ``tag`` for linux/amd64 and
    ``<tag>-arm64`` for linux/arm64.
    """
    return {
        platform: build_python_base(base_image_for(platform, tag), platform, cache_dir, force=force)
        for platform in dict.fromkeys(platforms)
    }


# --------------------------------------------------------------------------- emulation


# --------------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="aither base-image",
        description="Build (or reuse) the minimal Python base image from Debian bookworm packages.",
    )
    parser.add_argument(
        "--platform", action="append", choices=sorted(PLATFORM_ARCH),
        help="platform to build; repeat for several (default linux/amd64)",
    )
    parser.add_argument(
        "--tag", default=DEFAULT_TAG, help="tag of the amd64 image; others get -<arch> (default %(default)s)"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE_DIR,
        help="where .deb files are cached, one folder per architecture (default %(default)s)",
    )
    parser.add_argument("--force", action="store_true", help="rebuild even if a matching image exists")
    parser.add_argument("--check-arm64", action="store_true", help="only report whether arm64 emulation works")
    args = parser.parse_args(argv)

    if args.check_arm64:
        probe = base_image_for("linux/arm64", args.tag)
        ok, message = arm64_emulation_available(probe if image_info(probe) else None)
        print(("arm64 emulation available: " if ok else "arm64 emulation NOT available: ") + message)
        return 0 if ok else 1
    up, version = docker_available()
    if not up:
        print(f"error: no Docker engine: {version}", file=sys.stderr)
        return 1
    for platform in dict.fromkeys(args.platform or [DEFAULT_PLATFORM]):
        tag = base_image_for(platform, args.tag)
        started = time.monotonic()
        try:
            image_id = build_python_base(tag, platform, args.cache_dir, force=args.force)
        except BaseImageError as exc:
            print(f"error: {platform}: {exc}", file=sys.stderr)
            return 1
        size = (image_info(tag) or {}).get("Size", 0)
        print(f"{platform} {tag} {image_id} {size / 1e6:.1f} MB ({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
