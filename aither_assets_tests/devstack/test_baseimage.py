"""The local Python base image: made from Debian packages, run with a real Docker engine."""

from __future__ import annotations

import shutil
import subprocess
import tarfile
import uuid
from pathlib import Path

import pytest

from aither_assets.devstack import baseimage as base
from aither_assets.devstack.baseimage import (
    APP_UID,
    DEFAULT_TAG,
    PACKAGES,
    arch_for,
    base_image_for,
    build_python_base,
    package_version,
)
from aither_assets.images.host import arm64_emulation_available, image_info, image_platform, run_python

IMPORTS = "import http.server, json, email, urllib.request, socket, ssl, hashlib, html, logging"


# --------------------------------------------------------------------------- no Docker needed


def test_platform_names():
    assert arch_for("linux/amd64") == "amd64"
    assert arch_for("linux/arm64") == "arm64"
    with pytest.raises(ValueError, match="unsupported platform"):
        arch_for("linux/s390x")


def test_one_tag_per_platform():
    assert base_image_for("linux/amd64") == DEFAULT_TAG
    assert base_image_for("linux/arm64") == f"{DEFAULT_TAG}-arm64"
    assert base_image_for("linux/arm64", "x/y:1") == "x/y:1-arm64"


def test_package_version_from_deb_file_name():
    assert package_version("zlib1g_1%3a1.2.13.dfsg-1_amd64.deb") == "zlib1g=1:1.2.13.dfsg-1"
    assert package_version("ca-certificates_20230311_all.deb") == "ca-certificates=20230311"


def test_package_set_is_minimal_and_complete():
    for needed in ("libc6", "zlib1g", "libexpat1", "python3.11-minimal", "libpython3.11-stdlib"):
        assert needed in PACKAGES
    assert "libffi8" not in PACKAGES  # only ctypes needs it
    assert "_ctypes" in base.UNLOADABLE_EXTENSIONS


def test_rootfs_tar_ownership(tmp_path):
    rootfs = tmp_path / "rootfs"
    (rootfs / "home/app").mkdir(parents=True)
    (rootfs / "tmp").mkdir()
    (rootfs / "usr/bin").mkdir(parents=True)
    (rootfs / "usr/bin/python3.11").write_text("binary")
    (rootfs / "usr/bin/python3").symlink_to("python3.11")
    tar_path = tmp_path / "rootfs.tar"
    base.write_rootfs_tar(rootfs, tar_path)
    with tarfile.open(tar_path) as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert (members["home/app"].uid, members["home/app"].uname) == (APP_UID, "app")
    assert members["tmp"].mode == 0o1777
    assert (members["usr/bin/python3.11"].uid, members["usr/bin/python3.11"].uname) == (0, "root")
    assert members["usr/bin/python3"].issym() and members["usr/bin/python3"].linkname == "python3.11"


def test_docs_are_pruned_to_copyright_files(tmp_path):
    docs = tmp_path / "doc"
    (docs / "libc6").mkdir(parents=True)
    (docs / "libc6/copyright").write_text("c")
    (docs / "libc6/changelog.gz").write_text("x")
    (docs / "ca-certificates/examples").mkdir(parents=True)
    (docs / "ca-certificates/examples/README").write_text("x")
    base._prune_docs(docs)
    assert sorted(p.relative_to(docs).as_posix() for p in docs.rglob("*")) == ["libc6", "libc6/copyright"]


@pytest.mark.skipif(shutil.which("apt-get") is None, reason="needs apt (a Debian host)")
def test_apt_resolves_every_package_with_a_hash():
    debs = base.resolve_debs(base.native_arch())
    assert [deb.name for deb in debs] == list(PACKAGES)
    assert all(deb.digest_algo == "sha256" and len(deb.digest) == 64 and deb.size > 0 for deb in debs)


# --------------------------------------------------------------------------- real Docker


@pytest.fixture
def scratch_tag(docker_engine):
    """A throwaway tag, removed (with its image) after the test even when it fails."""
    tag = f"aither-test/python-base:{uuid.uuid4().hex[:12]}"
    yield tag
    subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, check=False)


@pytest.mark.docker
def test_build_amd64_base_and_run_python(scratch_tag):
    image_id = build_python_base(scratch_tag, "linux/amd64", force=True)
    info = image_info(scratch_tag)
    assert info is not None and info["Id"] == image_id
    assert image_platform(info) == "linux/amd64"
    config = info["Config"]
    assert config["User"] == str(APP_UID)
    assert "PATH=/usr/local/bin:/usr/bin:/bin" in config["Env"]
    assert config["Labels"][base.RECIPE_LABEL] == base.recipe_digest()
    assert "python3.11-minimal=" in config["Labels"][base.PACKAGES_LABEL]
    assert info["Size"] < 60_000_000, "the base image should stay small"

    out = run_python(scratch_tag, f"{IMPORTS}; import os, platform, pwd; "
                     "print(platform.machine(), os.getuid(), pwd.getpwuid(os.getuid()).pw_name)")
    assert out.split() == ["x86_64", str(APP_UID), "app"]


@pytest.mark.docker
def test_every_shipped_extension_module_loads(docker_engine):
    build_python_base()
    code = (
        "import importlib, os\n"
        "bad = []\n"
        "for f in sorted(os.listdir('/usr/lib/python3.11/lib-dynload')):\n"
        "    try: importlib.import_module(f.split('.')[0])\n"
        "    except Exception as e: bad.append(f'{f}: {e}')\n"
        "print(bad or 'ok')\n"
    )
    assert run_python(DEFAULT_TAG, code).strip() == "ok"


@pytest.mark.docker
def test_base_has_no_shell_and_a_writable_tmp(docker_engine):
    build_python_base()
    shell = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "/bin/sh", DEFAULT_TAG, "-c", "true"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert shell.returncode != 0
    out = run_python(DEFAULT_TAG, "import tempfile; print(tempfile.mkstemp()[1].startswith('/tmp/'))")
    assert out.strip() == "True"


@pytest.mark.docker
def test_existing_image_is_reused_without_downloading(docker_engine, monkeypatch):
    image_id = build_python_base()

    def no_download(*_args, **_kwargs):
        raise AssertionError("a matching image exists: nothing should be downloaded")

    monkeypatch.setattr(base, "download_debs", no_download)
    assert build_python_base() == image_id
    assert base.ensure_base_images(["linux/amd64"]) == {"linux/amd64": image_id}


@pytest.mark.docker
def test_image_from_another_recipe_is_not_reused(docker_engine, monkeypatch):
    build_python_base()
    assert base._reusable(DEFAULT_TAG, "linux/amd64")
    monkeypatch.setattr(base, "recipe_digest", lambda: "something-else")
    assert base._reusable(DEFAULT_TAG, "linux/amd64") is None
    assert base._reusable(DEFAULT_TAG, "linux/arm64") is None


@pytest.mark.docker
def test_arm64_base_runs_under_emulation(docker_engine):
    ok, why = arm64_emulation_available()
    if not ok:
        pytest.skip(f"arm64 emulation is not available: {why}")
    tag = base_image_for("linux/arm64")
    build_python_base(tag, "linux/arm64")
    info = image_info(tag)
    assert info is not None and image_platform(info) == "linux/arm64"
    out = run_python(tag, f"{IMPORTS}; import platform; print(platform.machine())", platform="linux/arm64")
    assert out.strip() == "aarch64"
    ok, why = arm64_emulation_available(probe_image=tag)
    assert ok, why


@pytest.mark.docker
def test_cli(docker_engine, capsys):
    assert base.main(["--platform", "linux/amd64"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith(f"linux/amd64 {DEFAULT_TAG} sha256:")


def test_cli_check_arm64(capsys):
    code = base.main(["--check-arm64"])
    out = capsys.readouterr().out
    assert out.startswith("arm64 emulation available: " if code == 0 else "arm64 emulation NOT available: ")


def test_module_runs_as_a_script():
    result = subprocess.run(
        [base.sys.executable, "-m", "aither_assets.devstack.baseimage", "--help"],
        capture_output=True, text=True, timeout=60, check=False, cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0
    assert "--platform" in result.stdout
