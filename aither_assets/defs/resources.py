"""Resources shared by every domain, configured per environment through env vars."""

import os
from functools import cached_property

import dagster as dg

from aither_assets.config import OperatorConfig, load_operator_config
from aither_assets.config.operator import CONFIG_ENV_VAR
from aither_assets.github.client import GitHubClient, client_from_config


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


@dg.definitions
def resources() -> dg.Definitions:
    config = AitherConfig(path=dg.EnvVar(CONFIG_ENV_VAR))
    return dg.Definitions(resources={"aither_config": config, "github": GitHubResource(config=config)})
