"""Start and stop the embedded stack's processes: local GitHub, the registry, Dagster.

Every process runs in its own session so that stopping the stack stops everything
it started (``dagster dev`` and the daemon start children of their own).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import yaml

from aither_assets.runtime.procstat import PGRP, is_dead, stat_fields
from aither_assets.webhooks.receiver import PATH as WEBHOOK_PATH

PROJECT_ROOT = Path(__file__).resolve().parents[3]
TOKEN_ENV = "AITHER_DEMO_GITHUB_TOKEN"


class StackError(RuntimeError):
    pass


def free_port(preferred: int | None = None) -> int:
    """``preferred`` when it is free, else any free loopback port."""
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return sock.getsockname()[1]
    raise StackError("no free port on 127.0.0.1")


def wait_http(url: str, timeout: float, proc: subprocess.Popen | None = None, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise StackError(f"{proc.args[0]} exited with {proc.returncode} before answering {url}{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answers; the status is not our concern here
        except OSError:
            time.sleep(0.2)
    raise StackError(f"{url} did not answer within {timeout:.0f} s{_tail(log)}")


def _tail(log: Path | None, lines: int = 15) -> str:
    if log is None or not log.exists():
        return ""
    text = log.read_text(errors="replace").splitlines()[-lines:]
    return "\n--- last lines of " + str(log) + " ---\n" + "\n".join(text)


@dataclass
class Stack:
    """The processes of one demo; a context manager that always stops what it started."""

    data_dir: Path
    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)

    def __enter__(self) -> "Stack":
        (self.data_dir / "logs").mkdir(parents=True, exist_ok=True)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def spawn(self, name: str, argv: list[str], env: dict[str, str] | None = None) -> tuple[subprocess.Popen, Path]:
        log = self.data_dir / "logs" / f"{name}.log"
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **(env or {})}, cwd=PROJECT_ROOT, start_new_session=True,
            )
        self.procs.append((name, proc))
        return proc, log

    def stop(self) -> None:
        # Reverse order: Dagster first, GitHub last, so runs can report while stopping.
        for _, proc in reversed(self.procs):
            _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for _, proc in reversed(self.procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            # The leader may be gone while its children (code server, run workers) live on:
            # the whole process group goes, always.
            _signal_group(proc.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            _wait_group_gone(proc.pid, timeout=5)
        self.procs.clear()

    # -- the parts ------------------------------------------------------------------

    def start_local_github(self, port: int) -> str:
        data = self.data_dir / "github"
        proc, log = self.spawn("local-github", [sys.executable, "-m", "aither_assets.devstack.localgithub",
                                                "--port", str(port), "--data", str(data)])
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_aither/requests", timeout=30, proc=proc, log=log)
        return url

    def start_registry(self, port: int) -> str:
        binary = shutil.which("docker-registry")
        if binary is None:
            raise StackError("docker-registry is not installed: apt-get install -y docker-registry")
        config = self.data_dir / "registry.yml"
        config.write_text(yaml.safe_dump({
            "version": 0.1,
            "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(self.data_dir / "registry")}, "delete": {"enabled": True}},
            "http": {"addr": f"127.0.0.1:{port}"},
        }))
        proc, log = self.spawn("registry", [binary, "serve", str(config)])
        address = f"127.0.0.1:{port}"
        wait_http(f"http://{address}/v2/", timeout=30, proc=proc, log=log)
        return address

    def start_pages_server(self, port: int, folder: Path) -> str:
        """Serve the published dashboards (static files) on loopback."""
        folder.mkdir(parents=True, exist_ok=True)
        proc, log = self.spawn("pages", [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
                                         "--directory", str(folder), str(port)])
        url = f"http://127.0.0.1:{port}"
        wait_http(url + "/", timeout=30, proc=proc, log=log)
        return url

    def start_dagster(self, env: dict[str, str], ui_port: int) -> str:
        """``dagster dev``: the daemon (sensors, run queue) and the webserver (UI, and the GraphQL API
        the webhook receiver submits runs to), sharing one code server."""
        bindir = Path(sys.executable).parent
        workspace = str(PROJECT_ROOT / "workspace.yaml")
        proc, log = self.spawn("dagster", [str(bindir / "dagster"), "dev", "-w", workspace,
                                           "-h", "127.0.0.1", "-p", str(ui_port)], env)
        url = f"http://127.0.0.1:{ui_port}"
        wait_http(f"{url}/server_info", timeout=180, proc=proc, log=log)
        return url

    def start_webhook_receiver(self, env: dict[str, str], port: int, dagster_url: str) -> str:
        """``aither webhooks``; ``env`` carries the hook's secret, which no Dagster process gets."""
        proc, log = self.spawn("webhooks", [sys.executable, "-m", "aither_assets.cli", "webhooks",
                                            "--port", str(port), "--dagster-url", dagster_url], env)
        wait_http(f"http://127.0.0.1:{port}/healthz", timeout=60, proc=proc, log=log)
        return f"http://127.0.0.1:{port}{WEBHOOK_PATH}"


def stop_on_sigterm() -> None:
    """SIGTERM (kill, a CI timeout) unwinds like Ctrl-C, so every Stack stops what it started."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group, read from /proc."""
    members = []
    for entry in Path("/proc").glob("[0-9]*"):
        fields = stat_fields(entry.name)
        if not is_dead(fields) and int(fields[PGRP]) == pgid:
            members.append(int(entry.name))
    return members


def _wait_group_gone(pgid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while _group_members(pgid) and time.monotonic() < deadline:
        _signal_group(pgid, signal.SIGKILL)
        time.sleep(0.1)


def check_docker() -> str:
    """The Docker engine's version, or a StackError that says how to start one."""
    import docker  # dagster-docker brings docker-py

    try:
        client = docker.from_env(timeout=5)
        return str(client.version().get("Version"))
    except Exception as exc:  # noqa: BLE001 - any failure means the same thing to the user
        raise StackError(
            f"the Docker engine does not answer ({exc}); start it with `dockerd &` "
            "(or `sudo systemctl start docker`) and try again"
        ) from None


def dagster_home(data_dir: Path) -> Path:
    """An instance folder with the project's dagster.yaml plus a storage block for this folder
    (aither_assets/runtime/sqlite_storage.py), its storage created up front.

    Created here, once: the daemon and its code server would otherwise both create the
    fresh SQLite schemas at the same moment and leave two alembic heads behind.
    """
    import dagster as dg

    from aither_assets.runtime.sqlite_storage import storage_config

    home = data_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    settings = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    settings["storage"] = storage_config(home / "storage")
    (home / "dagster.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    instance = dg.DagsterInstance.from_config(str(home))
    instance.get_runs(limit=1)  # touches run, event and schedule storage
    instance.schedule_storage.all_instigator_state()
    instance.dispose()
    return home


@contextlib.contextmanager
def environment(env: dict[str, str]) -> Iterator[None]:
    """Set env vars for this process (the demo reads the instance it launches runs on)."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
