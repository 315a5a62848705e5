"""Resources shared by every domain, configured per environment through env vars."""

import os
import threading
from contextlib import ExitStack, contextmanager
from functools import cached_property
from pathlib import Path
from typing import Iterator

import dagster as dg
from pydantic import PrivateAttr

from aither_assets.config import OperatorConfig, load_operator_config
from aither_assets.config.operator import CONFIG_ENV_VAR
from aither_assets.environments.docker_env import PreviewEnvironments
from aither_assets.environments.ports import PortAllocator, ports_for
from aither_assets.github.client import GitHubClient, client_from_config
from aither_assets.workspace import RepoCache, checkout


class AitherConfig(dg.ConfigurableResource):
    """The operator config file; its path comes from $AITHER_CONFIG in each environment."""

    path: str

    @cached_property
    def operator(self) -> OperatorConfig:
        return load_operator_config(self.path)


class GitHubResource(dg.ConfigurableResource):
    """A GitHub client for the configured repository; the token is read from the env var the config names."""

    config: AitherConfig

    def client(self) -> GitHubClient:
        return client_from_config(self.config.operator, os.environ)


class WorkspaceResource(dg.ConfigurableResource):
    """The PR head's tree, exported once per run on first use and removed when the run ends.

    Every asset of a run reads the same checkout; the cache of git objects is shared by all runs.
    """

    config: AitherConfig
    github: GitHubResource
    _stack: ExitStack | None = PrivateAttr(default=None)
    _trees: dict[tuple[int, str], Path] = PrivateAttr(default_factory=dict)
    _run_id: str = PrivateAttr(default="adhoc")
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)  # steps run on threads

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WorkspaceResource"]:
        with ExitStack() as stack:
            self._stack = stack
            self._run_id = context.run_id if context.run_id else "adhoc"
            yield self
        self._trees.clear()

    def tree(self, number: int, sha: str) -> Path:
        key = (int(number), sha)
        with self._lock:
            return self._tree(key)

    def _tree(self, key: tuple[int, str]) -> Path:
        number, sha = key
        if key not in self._trees:
            if self._stack is None:
                raise RuntimeError("WorkspaceResource used outside a run")
            storage = self.config.operator.storage
            client = self.github.client()
            self._trees[key] = self._stack.enter_context(checkout(
                self.cache(), storage.workspaces, client.repository, client.clone_url(), number, sha,
                self._run_id, token=client.token,
            ))
        return self._trees[key]

    def cache(self) -> RepoCache:
        return RepoCache(self.config.operator.storage.root / "cache")


class PreviewResource(dg.ConfigurableResource):
    """Preview containers of this deployment's app, and the persisted port allocation."""

    config: AitherConfig

    def environments(self) -> PreviewEnvironments:
        return PreviewEnvironments(app=self.config.operator.app)

    def ports(self) -> PortAllocator:
        operator = self.config.operator
        low, high = operator.preview.port_range
        return ports_for(operator.storage.root, operator.state_postgres_url(os.environ), low, high)


@dg.definitions
def resources() -> dg.Definitions:
    config = AitherConfig(path=dg.EnvVar(CONFIG_ENV_VAR))
    github = GitHubResource(config=config)
    return dg.Definitions(resources={
        "aither_config": config,
        "github": github,
        "workspace": WorkspaceResource(config=config, github=github),
        "preview": PreviewResource(config=config),
    })
