"""Fixtures shared across the suite: a real local GitHub server with a small repository."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from aither_assets.config.operator import OperatorConfig
from aither_assets.devstack.localgithub.server import run_in_thread
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.github.client import GitHubClient, RetryPolicy
from aither_assets.images.host import docker_available

OWNER, REPO = "acme", "web"


@dataclass
class GitHubFixture:
    store: LocalGitHub
    url: str
    token: str
    repository: str = f"{OWNER}/{REPO}"

    def client(self, token: str | None = None, **retry) -> GitHubClient:
        policy = RetryPolicy(**{"backoff_seconds": 0.01, "max_rate_limit_wait": 5, "secondary_rate_wait": 1, **retry})
        return GitHubClient.connect(self.url, self.repository, token=token or self.token, retry=policy)

    def operator_config(self, **fields) -> OperatorConfig:
        return OperatorConfig(repository=self.repository, github={"api_url": self.url, "token_env": "AITHER_TEST_TOKEN",
                                                                 "seconds_between_writes": 0}, **fields)

    def open_pr(self, name: str, base: str = "dev", files: dict | None = None, **kwargs) -> int:
        branch = f"feature/{name}"
        self.store.commit_files(OWNER, REPO, branch, files or {f"app/{name}.py": f"NAME = {name!r}\n"}, name,
                                author="alice")
        return self.store.open_pr(OWNER, REPO, head=branch, base=base, title=kwargs.pop("title", name),
                                  user=kwargs.pop("user", "alice"), **kwargs)

    def push(self, number: int, files: dict) -> str:
        pr = self.store.get_pr(OWNER, REPO, number)
        owner = pr["head_repo"].split("/")[0]
        return self.store.commit_files(owner, REPO, pr["head_ref"], files, "push", author="alice")


@pytest.fixture
def github(tmp_path: Path) -> GitHubFixture:
    source = tmp_path / "source"
    (source / "app").mkdir(parents=True)
    (source / "app" / "__init__.py").write_text("")
    (source / "README.md").write_text("# web\n")
    data = tmp_path / "gh"
    store = LocalGitHub(data)
    token = store.create_user("aither-bot")
    for login in ("alice", "maintainer", "mallory"):
        store.create_user(login)
    store.create_repo(OWNER, REPO, source_dir=source)
    store.add_collaborator(OWNER, REPO, "aither-bot", "write")
    store.add_collaborator(OWNER, REPO, "alice", "write")
    store.add_collaborator(OWNER, REPO, "maintainer", "write")
    store.create_branch(OWNER, REPO, "dev", "main")
    with run_in_thread(data) as url:
        yield GitHubFixture(store=store, url=url, token=token)
    store.close()


@pytest.fixture(scope="session")
def app_keys() -> tuple[str, str]:
    """(private PEM, public PEM) of an RSA key for GitHub App tests."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(serialization.Encoding.PEM,
                                           serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


# -- real Docker (tests marked ``docker`` skip cleanly when no engine answers) ----------------


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The engine's version; skips the test when no Docker engine answers."""
    ok, detail = docker_available()
    if not ok:
        pytest.skip(f"no Docker engine answers: {detail}")
    return detail


@pytest.fixture(scope="session")
def sample_images(docker_engine):
    """The sample app built once on the local base image, plus a variant with another image id."""
    from aither_assets_tests.environments.docker_support import sample_images_fixture

    yield from sample_images_fixture()


@pytest.fixture
def previews(docker_engine, tmp_path):
    """(PreviewEnvironments for a unique app name, a PortAllocator); containers removed afterwards."""
    from aither_assets_tests.environments.docker_support import previews_fixture

    yield from previews_fixture(tmp_path)


@pytest.fixture
def queued_instance():
    """A real instance whose runs queue, as with the daemon (cancelling a queued run needs it)."""
    import dagster as dg

    overrides = {"run_coordinator": {"module": "dagster._core.run_coordinator", "class": "QueuedRunCoordinator"}}
    with dg.instance_for_test(overrides=overrides) as inst:
        yield inst
