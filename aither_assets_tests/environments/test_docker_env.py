"""Preview containers against a real Docker engine (marked ``docker``), plus input validation."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from aither_assets.environments.docker_env import (
    APP_LABEL,
    EnvironmentUnhealthy,
    PreviewEnvironments,
    PreviewError,
    parse_expiry,
    sanitize_app,
    validate_env,
    validate_image_ref,
)

SHA1, SHA2 = "a" * 40, "b" * 40
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get_json(url: str) -> dict:
    with NO_PROXY.open(url, timeout=5) as response:
        return json.load(response)


def deploy(envs: PreviewEnvironments, ports, pr: int, image: str, **kwargs):
    kwargs.setdefault("sha", SHA1)
    kwargs.setdefault("base_ref", "dev")
    kwargs.setdefault("health_timeout", 30)
    return envs.deploy(pr, image, port=ports.allocate(pr), container_port=8000, **kwargs)


def app_containers(app: str) -> list[str]:
    return subprocess.run(
        ["docker", "ps", "--all", "--format", "{{.Names}}", "--filter", f"label={APP_LABEL}={app}"],
        capture_output=True, text=True, check=True,
    ).stdout.split()


# --------------------------------------------------------------------------- no Docker needed


class _NoDocker:
    def __getattr__(self, name):
        raise AssertionError(f"Docker was called ({name}) although the input is invalid")


@pytest.fixture
def offline() -> PreviewEnvironments:
    return PreviewEnvironments(_NoDocker(), app="Web API_v2!")


def test_app_names_are_sanitized(offline):
    assert offline.app == "web-api-v2"
    assert offline.name_for(12) == "web-api-v2-pr-12"
    assert sanitize_app("--A..b--") == "a-b"
    with pytest.raises(ValueError):
        sanitize_app("!!!")


@pytest.mark.parametrize("ref", ["sample:latest", "sample", "repo@sha256:abc", "sha256:" + "A" * 64, "x; rm -rf /"])
def test_tags_and_garbage_are_not_deployable(offline, ref):
    with pytest.raises(ValueError, match="digest"):
        offline.deploy(1, ref, port=30000, container_port=8000, sha=SHA1)


def test_digest_refs_and_ids_are_accepted():
    for ref in ("ghcr.io/acme/web@sha256:" + "0" * 64, "localhost:5000/web@sha256:" + "f" * 64,
                "sha256:" + "1" * 64, "1234567890ab"):
        assert validate_image_ref(ref) == ref


@pytest.mark.parametrize("env, message", [
    ({"BAD-NAME": "x"}, "name"),
    ({"1X": "x"}, "name"),
    ({"A B": "x"}, "name"),
    ({"PR_NUMBER": "666"}, "cannot be overridden"),
    ({"OK": "nul\x00byte"}, "NUL"),
    ({"OK": 5}, "string"),
])
def test_env_names_and_values_are_validated(env, message):
    with pytest.raises(ValueError, match=message):
        validate_env(env)


def test_shell_looking_values_are_just_data():
    assert validate_env({"MSG": "$(id); `reboot` && echo"}) == {"MSG": "$(id); `reboot` && echo"}


@pytest.mark.parametrize("kwargs", [
    {"labels": {"io.aither.managed": "false"}},
    {"labels": {"io.aither.pr": "2"}},
    {"health_path": "health"},
    {"health_path": "/a b"},
    {"sha": "not-a-sha"},
    {"ttl_hours": 0},
    {"port": 70000},
])
def test_other_inputs_are_validated_before_docker_is_touched(offline, kwargs):
    args = {"port": 30000, "container_port": 8000, "sha": SHA1, **kwargs}
    with pytest.raises(ValueError):
        offline.deploy(1, "sha256:" + "1" * 64, **args)


def test_expiry_labels_parse_to_utc():
    assert parse_expiry("2030-01-01T00:00:00+00:00") == datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_expiry("2030-01-01T00:00:00") == datetime(2030, 1, 1, tzinfo=UTC)
    assert parse_expiry("soon") is None and parse_expiry(None) is None


# --------------------------------------------------------------------------- real Docker


@pytest.mark.docker
def test_deploy_serves_the_pr_on_its_port_locked_down(previews, sample_images):
    envs, ports = previews
    dep = deploy(envs, ports, 7, sample_images.id, env={"APP_ENV": "pr-7", "MSG": "$(id)"}, ttl_hours=2)
    assert dep.name == f"{envs.app}-pr-7"
    assert dep.url == f"http://127.0.0.1:{ports.port_of(7)}" and dep.port == ports.port_of(7)
    assert dep.image_id == sample_images.id and dep.image_ref == sample_images.id
    started = datetime.fromisoformat(dep.started_at)
    assert datetime.fromisoformat(dep.expires_at) - started == timedelta(hours=2)
    version = get_json(dep.url + "/api/version")
    assert (version["pr_number"], version["commit_sha"], version["base_ref"], version["environment"]) == (
        "7", SHA1, "dev", "pr-7")

    attrs = envs.client.containers.get(dep.container_id).attrs
    host = attrs["HostConfig"]
    assert attrs["Image"] == sample_images.id
    assert host["PortBindings"] == {"8000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(dep.port)}]}
    assert host["ReadonlyRootfs"] is True and "/tmp" in host["Tmpfs"]
    assert host["CapDrop"] == ["ALL"] and host["SecurityOpt"] == ["no-new-privileges"]
    assert host["RestartPolicy"]["Name"] == "no"
    assert host["Memory"] == 256 * 1024 * 1024 and host["PidsLimit"] == 128
    labels = attrs["Config"]["Labels"]
    assert labels["io.aither.managed"] == "true" and labels["io.aither.pr"] == "7"
    assert labels["io.aither.app"] == envs.app and labels["io.aither.sha"] == SHA1
    assert labels["io.aither.expires-at"] == dep.expires_at
    assert "MSG=$(id)" in attrs["Config"]["Env"]  # passed as data, not run

    [info] = envs.list_ours()
    assert (info.pr, info.name, info.id, info.sha, info.status) == (7, dep.name, dep.container_id, SHA1, "running")
    assert info.expires_at == datetime.fromisoformat(dep.expires_at)


@pytest.mark.docker
def test_redeploy_replaces_the_container_of_the_pr(previews, sample_images):
    envs, ports = previews
    first = deploy(envs, ports, 3, sample_images.id, sha=SHA1)
    # a missing image fails before the running environment is touched
    with pytest.raises(PreviewError, match="not present"):
        deploy(envs, ports, 3, "sha256:" + "e" * 64, sha=SHA2)
    assert get_json(first.url + "/api/version")["commit_sha"] == SHA1

    second = deploy(envs, ports, 3, sample_images.variant_id, sha=SHA2)
    assert second.name == first.name and second.port == first.port
    assert second.container_id != first.container_id and second.image_id == sample_images.variant_id
    assert app_containers(envs.app) == [first.name]
    [info] = envs.list_ours()
    assert (info.id, info.sha) == (second.container_id, SHA2)
    assert get_json(second.url + "/api/version")["commit_sha"] == SHA2


@pytest.mark.docker
def test_teardown_removes_only_that_pr(previews, sample_images):
    envs, ports = previews
    one = deploy(envs, ports, 1, sample_images.id)
    two = deploy(envs, ports, 2, sample_images.id)
    # a container that merely looks like ours (no managed label) is never touched
    lookalike = f"{envs.app}-pr-1-manual"
    subprocess.run(["docker", "create", "--name", lookalike, "--label", f"{APP_LABEL}={envs.app}",
                    "--label", "io.aither.pr=1", sample_images.id], capture_output=True, check=True)

    assert envs.teardown(1) is True
    assert envs.teardown(1) is False  # idempotent
    assert sorted(app_containers(envs.app)) == sorted([two.name, lookalike])
    assert get_json(two.url + "/health") == {"status": "ok"}
    assert [i.pr for i in envs.list_ours()] == [2]
    with pytest.raises(OSError):
        NO_PROXY.open(one.url + "/health", timeout=2)
    assert ports.port_of(1) is not None  # the allocator is the caller's business


@pytest.mark.docker
def test_sweep_removes_closed_and_expired_prs_and_keeps_open_ones(previews, sample_images):
    envs, ports = previews
    deploy(envs, ports, 10, sample_images.id, ttl_hours=48)  # open, fresh
    deploy(envs, ports, 11, sample_images.id, ttl_hours=48)  # closed
    deploy(envs, ports, 12, sample_images.id, ttl_hours=1)  # open, expired by "now"
    now = datetime.now(UTC)
    assert envs.sweep({10, 11, 12}, now) == []
    assert envs.sweep({10, 12}, now + timedelta(hours=2)) == [11, 12]
    assert [i.pr for i in envs.list_ours()] == [10]
    assert envs.sweep({10, 12}, now + timedelta(hours=2)) == []


@pytest.mark.docker
def test_a_container_that_exits_is_reported_with_logs_and_removed(previews, sample_images):
    envs, ports = previews
    with pytest.raises(EnvironmentUnhealthy) as info:
        deploy(envs, ports, 4, sample_images.id, env={"LOG_LEVEL": "chatty"})
    assert "exited with code 2" in info.value.reason
    assert "LOG_LEVEL must be one of" in info.value.logs
    assert "LOG_LEVEL" in str(info.value)
    assert app_containers(envs.app) == []


@pytest.mark.docker
def test_a_health_path_that_never_answers_2xx_times_out_and_is_removed(previews, sample_images):
    envs, ports = previews
    with pytest.raises(EnvironmentUnhealthy) as info:
        deploy(envs, ports, 5, sample_images.id, health_path="/missing", health_timeout=2.5)
    assert "did not answer 2xx within 2.5s" in info.value.reason and "HTTP 404" in info.value.reason
    assert "GET /missing" in info.value.logs  # the access log tail
    assert app_containers(envs.app) == []


@pytest.mark.docker
def test_a_port_taken_by_another_program_fails_cleanly(previews, sample_images):
    envs, _ = previews
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        busy = sock.getsockname()[1]
        with pytest.raises(PreviewError, match="could not start"):
            envs.deploy(6, sample_images.id, port=busy, container_port=8000, sha=SHA1)
    assert app_containers(envs.app) == []


@pytest.mark.docker
def test_a_foreign_container_holding_the_name_is_not_removed(previews, sample_images):
    envs, ports = previews
    name = envs.name_for(9)
    subprocess.run(["docker", "create", "--name", name, "--label", f"{APP_LABEL}={envs.app}", sample_images.id],
                   capture_output=True, check=True)
    with pytest.raises(PreviewError, match="not managed by aither"):
        deploy(envs, ports, 9, sample_images.id)
    assert app_containers(envs.app) == [name]
