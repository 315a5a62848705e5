"""Teardown of previews on the product's path: the sweep sensor requests, the teardown job removes."""

import time
import uuid

import dagster as dg
import pytest
import yaml

from aither_assets.defs.deploy.teardown import preview_sweep_sensor, preview_teardown
from aither_assets.defs.resources import AitherConfig, GitHubResource, PreviewResource
from aither_assets_tests.conftest import OWNER, REPO
from aither_assets_tests.environments.docker_support import remove_app_containers


@pytest.fixture
def sample_image(sample_images):
    return sample_images.id


@pytest.fixture
def deployment(github, tmp_path, monkeypatch):
    """Resources as the daemon builds them, for a unique app name; its containers removed afterwards."""
    monkeypatch.setenv("AITHER_TEST_TOKEN", github.token)
    app = f"aither-test-{uuid.uuid4().hex[:8]}"
    config_file = tmp_path / "aither.yaml"
    operator = github.operator_config(app_name=app, storage={"root": str(tmp_path / "store")},
                                      preview={"port_range": [21000, 21999]})
    config_file.write_text(yaml.safe_dump(operator.model_dump(mode="json")))
    config = AitherConfig(path=str(config_file))
    resources = {"preview": PreviewResource(config=config), "github": GitHubResource(config=config)}
    yield resources
    remove_app_containers(app)


def deploy(resources, image_id, pr, ttl_hours=72.0):
    preview = resources["preview"]
    port = preview.ports().allocate(pr)
    preview.environments().deploy(pr, image_id, port=port, container_port=8000, sha="a" * 40,
                                  health_path="/health", ttl_hours=ttl_hours)
    return port


def sweep(resources):
    with dg.build_sensor_context(resources=resources) as context:
        return preview_sweep_sensor(context)


def teardown(resources, request, instance):
    return preview_teardown.execute_in_process(run_config=request.run_config, resources=resources,
                                               instance=instance, tags=request.tags)


@pytest.mark.docker
def test_closed_pr_is_torn_down_and_its_port_freed_history_kept(github, deployment, sample_image):
    open_pr, closed_pr = github.open_pr("stays"), github.open_pr("goes")
    deploy(deployment, sample_image, open_pr)
    deploy(deployment, sample_image, closed_pr)
    assert isinstance(sweep(deployment), dg.SkipReason)  # both open and within their TTL

    github.store.close_pr(OWNER, REPO, closed_pr)
    (request,) = sweep(deployment)
    assert request.tags == {"aither/pr": str(closed_pr)}
    assert request.run_config["ops"]["teardown_preview"]["config"] == {"pr": closed_pr, "reason": "PR closed"}

    with dg.instance_for_test() as instance:
        assert teardown(deployment, request, instance).success
        (observation,) = [e for e in instance.get_event_records(dg.EventRecordsFilter(dg.DagsterEventType.ASSET_OBSERVATION))]
        data = observation.asset_observation
        assert data.asset_key == dg.AssetKey("pr_environment") and data.partition == str(closed_pr)
        assert data.metadata["state"].value == "torn_down" and data.metadata["containers_removed"].value is True

    left = {info.pr for info in deployment["preview"].environments().list_ours()}
    assert left == {open_pr}
    assert deployment["preview"].ports().port_of(closed_pr) is None
    assert deployment["preview"].ports().port_of(open_pr) is not None


@pytest.mark.docker
def test_expired_ttl_is_torn_down(github, deployment, sample_image):
    number = github.open_pr("short-lived")
    deploy(deployment, sample_image, number, ttl_hours=0.5 / 3600)  # half a second
    time.sleep(1.0)
    (request,) = sweep(deployment)
    assert request.run_config["ops"]["teardown_preview"]["config"]["reason"].startswith("TTL expired")


@pytest.mark.docker
def test_merged_pr_reason_and_github_outage_leaves_the_container_for_the_next_tick(github, deployment, sample_image):
    number = github.open_pr("merge-me")
    deploy(deployment, sample_image, number)
    github.store.merge_pr(OWNER, REPO, number)
    github.store.set_faults(server_errors=50)
    assert isinstance(sweep(deployment), dg.SkipReason)  # GitHub down: nothing is torn down on a guess
    github.store.clear_faults()
    (request,) = sweep(deployment)
    assert request.run_config["ops"]["teardown_preview"]["config"]["reason"] == "PR merged"
