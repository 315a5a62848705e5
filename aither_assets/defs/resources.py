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
from aither_assets.config.pipeline import PipelineConfig, load_pipeline_config
from aither_assets.environments.docker_env import PreviewEnvironments
from aither_assets.environments.ports import PortAllocator, ports_for
from aither_assets.github.client import GitHubClient, client_from_config
from aither_assets.github.writer import SerialWriter
from aither_assets.prs.context import PRContext
from aither_assets.sandbox.runner import Sandbox
from aither_assets.sandbox.sweep import sweep as sweep_sandboxes
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
    """The PR head's tree, exported once per run on first use and removed when the run ends, and the
    repo's pipeline config in it, read once per run.

    Every asset of a run reads the same checkout; the cache of git objects is shared by all runs.
    """

    config: AitherConfig
    github: GitHubResource
    _stack: ExitStack | None = PrivateAttr(default=None)
    _trees: dict[tuple[int, str], Path] = PrivateAttr(default_factory=dict)
    _pipelines: dict[tuple[int, str], PipelineConfig] = PrivateAttr(default_factory=dict)
    _run_id: str = PrivateAttr(default="adhoc")
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)  # steps run on threads

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WorkspaceResource"]:
        with ExitStack() as stack:
            self._stack = stack
            self._run_id = context.run_id if context.run_id else "adhoc"
            yield self
        self._trees.clear()
        self._pipelines.clear()

    def tree(self, number: int, sha: str) -> Path:
        key = (int(number), sha)
        with self._lock:
            return self._tree(key)

    def head(self, pr: PRContext) -> Path:
        """The tree of the head this run builds."""
        return self.tree(pr.number, pr.head_sha)

    def pipeline(self, pr: PRContext) -> PipelineConfig:
        """The head's ``.aither/pipeline.yaml``, loaded on first use (ConfigError when it is invalid)."""
        return self.pipeline_at(pr.number, pr.head_sha)

    def pipeline_at(self, number: int, sha: str) -> PipelineConfig:
        key = (int(number), sha)
        with self._lock:
            if key not in self._pipelines:
                self._pipelines[key] = load_pipeline_config(self._tree(key))
            return self._pipelines[key]

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


class SandboxResource(dg.ConfigurableResource):
    """Where PR-controlled commands run: one container each (aither_assets/sandbox), limits from the operator config.

    At a run's start it removes sandbox containers that runs which are over left behind (a worker
    that died cannot remove its own). Runner images come by reference: the operator provides them
    (the dev stack builds its own, devstack/runnerimage.py), and a missing one fails its suite by name.
    """

    config: AitherConfig
    _sandbox: Sandbox | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["SandboxResource"]:
        operator = self.config.operator
        if context.instance is not None:
            sweep_sandboxes(run_active=lambda run_id: run_active(context.instance, run_id))
        secrets = operator.secret_values(os.environ)
        with Sandbox(operator.sandbox, context.run_id or "adhoc", secrets=secrets) as sandbox:
            self._sandbox = sandbox
            yield self
        self._sandbox = None

    def get(self) -> Sandbox:
        if self._sandbox is None:
            raise RuntimeError("SandboxResource used outside a run")
        return self._sandbox


def run_active(instance: dg.DagsterInstance, run_id: str) -> bool:
    """Unknown runs count as active: only containers of runs known to be over are removed early."""
    run = instance.get_run_by_id(run_id)
    return run is None or not run.is_finished


class GitHubWriter(dg.ConfigurableResource):
    """This run's GitHub writes that nothing waits for, made in order on a thread of the run
    (``github/writer.py``). Whatever must land after them waits for them (``wait``); when the run
    ends, the writes still going on are finished first, so nothing is lost if the run fails."""

    _writer: SerialWriter | None = PrivateAttr(default=None)

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["GitHubWriter"]:
        self._writer = SerialWriter(context.run_id or "adhoc")
        try:
            yield self
        finally:
            self._writer.close(wait=True)

    def submit(self, what: str, call) -> None:
        self.writer().submit(what, call)

    def wait(self, warn, timeout: float = 300.0) -> None:
        self.writer().wait(warn, timeout)

    def writer(self) -> SerialWriter:
        if self._writer is None:
            raise RuntimeError("GitHubWriter used outside a run")
        return self._writer


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
        "sandbox": SandboxResource(config=config),
        "github_writer": GitHubWriter(),
    })
