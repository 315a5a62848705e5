"""Ring environments and roll-outs against the real Docker engine (sample app images)."""

import json
import urllib.request
import uuid

import docker
import pytest

from aither_assets.config.pipeline import SmokeCheck
from aither_assets.environments.docker_env import PreviewEnvironments
from aither_assets.environments.ring_env import RingEnvironments
from aither_assets.promotion.rollout import roll_out
from aither_assets_tests.environments.docker_support import remove_app_containers
from aither_assets_tests.images.conftest import free_port

SHA1, SHA2 = "1" * 40, "2" * 40
PASSING = [SmokeCheck(path="/health", contains="ok")]


@pytest.fixture
def rings(docker_engine):
    app = f"aither-test-{uuid.uuid4().hex[:8]}"
    client = docker.from_env()
    try:
        yield RingEnvironments(client, app=app, stop_timeout=2)
    finally:
        remove_app_containers(app)
        client.close()


def version(url: str) -> dict:
    with urllib.request.urlopen(url + "/api/version", timeout=5) as response:
        return json.loads(response.read())


@pytest.mark.docker
def test_a_verified_rollout_stays_a_failed_one_puts_the_ring_back(rings, sample_images):
    port = free_port()
    first = roll_out(rings, "ring-0", sample_images.id, port=port, container_port=8000, pr=1, sha=SHA1,
                     checks=PASSING, health_path="/health")
    assert first.verified and first.previous is None and first.deployment.name == f"{rings.app}-ring-0"
    assert version(first.deployment.url)["environment"] == "ring-0"
    assert rings.current("ring-0").image_ref == sample_images.id and rings.current("ring-0").pr == 1

    failing = [SmokeCheck(path="/api/version", contains='"environment":"production"')]
    second = roll_out(rings, "ring-0", sample_images.variant_id, port=port, container_port=8000, pr=2, sha=SHA2,
                      checks=failing, health_path="/health")
    assert not second.verified and second.restored and "smoke /api/version" in second.failure
    now = rings.current("ring-0")
    assert (now.image_ref, now.pr, now.sha) == (sample_images.id, 1, SHA1)  # back on the previous digest
    assert version(now.url)["commit_sha"] == SHA1
    # the preview sweep never touches a ring: it is not a preview
    previews = PreviewEnvironments(rings.client, app=rings.app)
    assert previews.sweep(open_prs=set()) == [] and rings.current("ring-0") is not None


@pytest.mark.docker
def test_failed_first_rollout_leaves_the_ring_empty(rings, sample_images):
    port = free_port()
    result = roll_out(rings, "dev", sample_images.id, port=port, container_port=8000, pr=3, sha=SHA1,
                      checks=[SmokeCheck(path="/nope")], health_path="/health")
    assert not result.verified and not result.restored and result.deployment is None
    assert "smoke /nope" in result.failure and rings.current("dev") is None
