"""The production profile on one machine: what `aither demo --profile production` starts.

PostgreSQL (Debian's server, a cluster in the demo's folder) holds the Dagster instance and the shared
tables; the code server runs in a container of the code image (so runs launched from its code
location start the image's interpreter); the webserver, the daemon and the webhook receiver are
separate host processes; each run is a container started by dagster-docker's DockerRunLauncher.
They share nothing but Postgres, the registry, the Docker engine and GitHub, plus the storage folders
the run containers mount (artifacts and compute logs; on several hosts, a shared volume).
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from aither_assets.runtime.production import (
    DEPLOYMENT_LABEL,
    ProductionInstance,
    run_env_var_names,
    write_instance_yaml,
)
from aither_assets.runtime.statestore import sqlalchemy_url

POSTGRES_URL_ENV = "AITHER_POSTGRES_URL"
#: Settings the code server and runs read from the environment besides the operator config's names.
TUNING_ENV = ("AITHER_SENSOR_INTERVAL_SECONDS", "AITHER_SWEEP_INTERVAL_SECONDS")
LOCATION = "aither_assets"


def deployment_name(data_dir: Path) -> str:
    """One demo folder, one deployment: its run containers and code server are labelled with it."""
    return "demo-" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:10]


def code_server_name(data_dir: Path) -> str:
    return f"aither-code-{deployment_name(data_dir)}"


def make_traversable(path: Path) -> None:
    """PostgreSQL runs as its own user: it must be able to pass through the folders above its cluster.
    Adds search (x) permission for others where it is missing on folders we own; never read permission."""
    for folder in [path, *path.parents]:
        try:
            info = folder.stat()
        except FileNotFoundError:
            continue
        if info.st_uid == os.geteuid() and not info.st_mode & stat.S_IXOTH:
            folder.chmod(info.st_mode | stat.S_IXOTH)


def start_postgres(data_dir: Path, port: int):
    """Start (initialising the first time) the demo's cluster in ``data_dir/postgres``."""
    from aither_assets.devstack import postgres

    folder = data_dir / "postgres"
    folder.mkdir(parents=True, exist_ok=True)
    make_traversable(folder)
    postgres._chown_to_server_user(folder)
    return postgres.start(folder / "data", port)


def write_workspace(data_dir: Path, port: int) -> Path:
    """The webserver's and the daemon's workspace: the code server in its container, over gRPC."""
    path = data_dir / "workspace.production.yaml"
    path.write_text(yaml.safe_dump({"load_from": [
        {"grpc_server": {"host": "127.0.0.1", "port": port, "location_name": LOCATION}}]}))
    return path


def mounts(data_dir: Path, operator_config, config_path: Path) -> list[Path]:
    """Folders the code server and the runs see at the host's paths: the storage root (workspaces,
    artifacts, pages), the instance folder (compute logs), the operator config, and the local GitHub's
    repositories (its clone URLs are file:// URLs; a real GitHub is reached over HTTPS instead)."""
    return [operator_config.storage.root, data_dir / "dagster_home", config_path, data_dir / "github"]


def production_home(data_dir: Path, image: str, operator_config, config_path: Path) -> Path:
    """DAGSTER_HOME with the production dagster.yaml; its Postgres schema is created here, once, before
    the daemon, the webserver and the code server would race to create it."""
    import dagster as dg

    home = data_dir / "dagster_home"
    deployment = ProductionInstance(
        code_image=image, postgres_url_env=POSTGRES_URL_ENV,
        env_vars=(*run_env_var_names(operator_config, TUNING_ENV), "DAGSTER_HOME"),
        mounts=tuple(mounts(data_dir, operator_config, config_path)), deployment=deployment_name(data_dir))
    write_instance_yaml(home, deployment)
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        instance.get_runs(limit=1)
        instance.schedule_storage.all_instigator_state()
    finally:
        instance.dispose()
    return home


def code_server_argv(data_dir: Path, image: str, port: int, env_names: list[str], mounts: list[Path]) -> list[str]:
    """``docker run`` of the code server: values of ``env_names`` come from the CLI's environment, never argv."""
    argv = ["docker", "run", "--rm", "--name", code_server_name(data_dir), "--network", "host", "--user", "0",
            "--label", f"{DEPLOYMENT_LABEL}={deployment_name(data_dir)}",
            "-v", "/var/run/docker.sock:/var/run/docker.sock"]
    for mount in dict.fromkeys(str(m) for m in mounts):
        argv += ["-v", f"{mount}:{mount}"]
    for name in env_names:
        argv += ["-e", name]
    return argv + [image, "dagster", "api", "grpc", "--module-name", "aither_assets.definitions",
                   "--location-name", LOCATION, "--host", "127.0.0.1", "--port", str(port)]


def wait_code_server(port: int, proc: subprocess.Popen, log: Path, timeout: float = 180) -> None:
    import time

    from aither_assets.devstack.demo.stack import StackError, _tail

    deadline = time.monotonic() + timeout
    dagster = str(Path(sys.executable).parent / "dagster")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise StackError(f"the code server exited with {proc.returncode}{_tail(log)}")
        check = subprocess.run([dagster, "api", "grpc-health-check", "--host", "127.0.0.1", "--port", str(port)],
                               capture_output=True, timeout=30, check=False)
        if check.returncode == 0:
            return
        time.sleep(1)
    raise StackError(f"the code server did not answer on port {port} within {timeout:.0f} s{_tail(log)}")


def remove_containers(data_dir: Path) -> list[str]:
    """Remove the deployment's run containers and code server (what auto_remove did not); their names."""
    import docker

    removed = []
    for container in _ours(data_dir):
        removed.append(container.name)
        try:
            container.remove(force=True)
        except docker.errors.NotFound:
            pass  # auto_remove got there first
    return removed


def left_containers(data_dir: Path) -> list[str]:
    return [container.name for container in _ours(data_dir)]


def _ours(data_dir: Path) -> list:
    import docker

    label = f"{DEPLOYMENT_LABEL}={deployment_name(data_dir)}"
    return docker.from_env().containers.list(all=True, filters={"label": label})


def postgres_env(server) -> dict[str, str]:
    return {POSTGRES_URL_ENV: sqlalchemy_url(server.url)}
