"""The production profile's Dagster instance settings (its dagster.yaml), made in one place.

The blocks both profiles share (run queue limits per PR, dequeue interval, sensor threads,
run monitoring, telemetry) are read from the project's dagster.yaml, so a limit is changed once.
Production replaces what is local there:

- ``storage: postgres`` (dagster-postgres: runs, event log, schedules) at the URL held by the
  environment variable that also names the shared tables' database (storage.state_postgres_url_env);
- ``run_launcher: DockerRunLauncher`` (dagster-docker): each run in its own container of the code
  image, on the host's network (Postgres, GitHub and the registry listen on the operator's
  addresses), with the Docker socket (the control plane builds images and starts previews) and
  the storage folders mounted at the same paths as on the host.

Nothing here reads a secret: the settings name environment variables, and Dagster resolves them
in each process (webserver, daemon, run container) at start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_INSTANCE_YAML = PROJECT_ROOT / "dagster.yaml"
#: Blocks of dagster.yaml that mean the same on both profiles.
SHARED_BLOCKS = ("concurrency", "run_coordinator", "sensors", "run_monitoring", "telemetry")
DOCKER_SOCKET = "/var/run/docker.sock"
#: Label on every run container of a deployment: `--once` and the operator find (and remove) them by it.
DEPLOYMENT_LABEL = "io.aither.deployment"


@dataclass(frozen=True)
class ProductionInstance:
    """What a production dagster.yaml needs to know about its deployment."""

    code_image: str  # the code image tag runs start from (devstack/codeimage.py builds it)
    postgres_url_env: str  # the variable holding the PostgreSQL URL (instance and shared tables)
    env_vars: tuple[str, ...]  # names passed from the daemon's environment into each run container
    mounts: tuple[Path, ...]  # host folders mounted at the same path (storage root, DAGSTER_HOME)
    deployment: str = "aither"  # value of DEPLOYMENT_LABEL on run containers
    docker_network: str = "host"  # "host": runs reach services on the host's loopback, as the host does
    extra_volumes: tuple[str, ...] = field(default=())  # more "host:container[:mode]" binds

    def volumes(self) -> list[str]:
        binds = [f"{DOCKER_SOCKET}:{DOCKER_SOCKET}"]
        binds += [f"{path}:{path}" for path in dict.fromkeys(str(Path(p)) for p in self.mounts)]
        return binds + list(self.extra_volumes)


def shared_blocks(source: Path = EMBEDDED_INSTANCE_YAML) -> dict:
    """The queue limits, sensor threads, run monitoring and telemetry of the project's dagster.yaml."""
    settings = yaml.safe_load(source.read_text()) or {}
    return {name: settings[name] for name in SHARED_BLOCKS if name in settings}


def instance_settings(deployment: ProductionInstance, source: Path = EMBEDDED_INSTANCE_YAML) -> dict:
    """The production dagster.yaml as a mapping (write it with :func:`write_instance_yaml`)."""
    settings: dict = {
        "storage": {"postgres": {"postgres_url": {"env": deployment.postgres_url_env}}},
        # The run coordinator is the same queue as embedded; its limits are the `concurrency` block.
        **shared_blocks(source),
        "run_launcher": {
            "module": "dagster_docker",
            "class": "DockerRunLauncher",
            "config": {
                "image": deployment.code_image,
                "network": deployment.docker_network,
                "env_vars": list(dict.fromkeys(deployment.env_vars)),
                "container_kwargs": {
                    "volumes": deployment.volumes(),
                    # Root in the run container: it holds the Docker socket, which is root on the host
                    # anyway; PR code never runs with it (README: "What runs where").
                    "user": "0",
                    "labels": {DEPLOYMENT_LABEL: deployment.deployment},
                    # A finished run's container goes; a crashed one is found gone by run monitoring.
                    "auto_remove": True,
                },
            },
        },
    }
    monitoring = settings.setdefault("run_monitoring", {"enabled": True})
    # A container that never came up (image missing, engine gone) fails its run instead of staying STARTING.
    monitoring.setdefault("start_timeout_seconds", 180)
    monitoring.setdefault("cancel_timeout_seconds", 180)
    return settings


def write_instance_yaml(dagster_home: Path, deployment: ProductionInstance,
                        source: Path = EMBEDDED_INSTANCE_YAML) -> Path:
    dagster_home.mkdir(parents=True, exist_ok=True)
    path = dagster_home / "dagster.yaml"
    header = "# Production profile (aither_assets/runtime/production.py); shared blocks come from dagster.yaml.\n"
    path.write_text(header + yaml.safe_dump(instance_settings(deployment, source), sort_keys=False))
    return path


def run_env_var_names(operator_config, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The variables a run needs from the daemon's environment: the operator config's path, the GitHub
    token, registry credentials, and the PostgreSQL URL. Never the webhook secret: only the receiver has it."""
    from aither_assets.config.operator import CONFIG_ENV_VAR

    names = [CONFIG_ENV_VAR, operator_config.github.token_env]
    registry = operator_config.registry
    names += [name for name in (registry.username_env, registry.password_env) if name]
    if operator_config.storage.state_postgres_url_env:
        names.append(operator_config.storage.state_postgres_url_env)
    return tuple(dict.fromkeys([*names, *extra]))
