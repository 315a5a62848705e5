"""Real-Docker helpers shared by the environment and smoke tests.

The sample app is built once per session on the local base image (nothing is pulled);
a second image with an extra label gives a different image id for redeploy tests.
Every test app name is unique, and everything labelled with it is removed afterwards,
even when the test fails.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from aither_assets.devstack.baseimage import build_python_base
from aither_assets.environments.docker_env import APP_LABEL, PreviewEnvironments
from aither_assets.environments.ports import PortAllocator
from aither_assets.images.host import docker_available, image_info

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-app"
TEST_IMAGE_LABEL = "io.aither.test-image"


@dataclass(frozen=True)
class SampleImages:
    id: str  # the sample app
    variant_id: str  # the same app with one more label: another image id
    tags: tuple[str, ...]


def _build(tag: str, *extra: str) -> str:
    result = subprocess.run(
        ["docker", "build", "--quiet", "--tag", tag, "--label", f"{TEST_IMAGE_LABEL}=1", *extra, str(SAMPLE)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    info = image_info(tag)
    assert info is not None
    return info["Id"]


def docker_engine_fixture() -> str:
    ok, detail = docker_available()
    if not ok:
        pytest.skip(f"no Docker engine answers: {detail}")
    return detail


def sample_images_fixture() -> Iterator[SampleImages]:
    build_python_base()
    suffix = uuid.uuid4().hex[:10]
    tags = (f"aither-test/env-sample:{suffix}", f"aither-test/env-sample:{suffix}-v2")
    try:
        first = _build(tags[0])
        second = _build(tags[1], "--label", f"io.aither.test-variant={suffix}")
        assert first != second
        yield SampleImages(first, second, tags)
    finally:
        subprocess.run(["docker", "image", "rm", "--force", *tags], capture_output=True, check=False)


def remove_app_containers(app: str) -> None:
    ids = subprocess.run(
        ["docker", "ps", "--all", "--quiet", "--filter", f"label={APP_LABEL}={app}"],
        capture_output=True, text=True, check=False,
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "--force", "--volumes", *ids], capture_output=True, check=False)


def previews_fixture(tmp_path: Path) -> Iterator[tuple[PreviewEnvironments, PortAllocator]]:
    import docker

    app = f"aither-test-{uuid.uuid4().hex[:8]}"
    client = docker.from_env()
    envs = PreviewEnvironments(client, app=app, stop_timeout=2)
    ports = PortAllocator(tmp_path / "ports.sqlite", 31000, 31999)
    try:
        yield envs, ports
    finally:
        remove_app_containers(envs.app)
        client.close()
