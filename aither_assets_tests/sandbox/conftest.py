"""A runner image built once per session, and sandboxes with small limits so the hostile corpus runs fast."""

from __future__ import annotations

import secrets as _secrets

import pytest

from aither_assets.config.operator import SandboxConfig
from aither_assets.sandbox.runner import RUN_LABEL, Sandbox

#: Small enough that the limits are reached in a second or two, large enough for pytest (~40 MiB).
LIMITS = {"memory_mb": 192, "cpus": 1.0, "pids": 48, "disk_mb": 24, "tmp_mb": 16}


@pytest.fixture(scope="session")
def runner_image(docker_engine) -> str:
    from aither_assets.devstack.runnerimage import ensure_runner_image

    return ensure_runner_image()


@pytest.fixture
def control_token(monkeypatch) -> str:
    """A real-looking control-plane token, set in this (host) process's environment as the product's would be."""
    token = "ghs_" + _secrets.token_hex(18)
    monkeypatch.setenv("GITHUB_TOKEN", token)
    monkeypatch.setenv("AITHER_WEBHOOK_SECRET", "whsec-" + _secrets.token_hex(12))
    return token


@pytest.fixture
def sandbox(runner_image, control_token, request):
    """A Sandbox for this test (its own run id), with the token among the secrets to watch for."""
    run_id = f"test-{_secrets.token_hex(6)}"
    with Sandbox(SandboxConfig(**LIMITS), run_id, secrets=[control_token]) as box:
        yield box
    leftovers(run_id, remove=True)


def leftovers(run_id: str, remove: bool = False) -> list[str]:
    """Ids of containers of ``run_id`` still on the engine (removed when ``remove``)."""
    import docker

    api = docker.APIClient(version="auto")
    try:
        found = [c["Id"] for c in api.containers(all=True, filters={"label": f"{RUN_LABEL}={run_id}"})]
        for cid in found if remove else ():
            api.remove_container(cid, force=True, v=True)
        return found
    finally:
        api.close()
