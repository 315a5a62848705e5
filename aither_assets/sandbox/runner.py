"""Run one PR-controlled command in a throwaway container: the only place PR code meets the engine.

Talks to the engine with the ``docker`` SDK (already a dependency through dagster-docker; also
what images/build.py uses): typed inspect data (``State.OOMKilled``), no CLI output to parse, and
no ``docker`` process per call, which matters at several calls per suite.

Each command gets its own container:

* the runner image the operator allows (``SandboxConfig.runner_images``), run as uid 65534;
* ``cap_drop ALL``, ``no-new-privileges``, read-only root filesystem, own PID and IPC namespaces;
* no mounts from the host at all and no Docker socket: the working folder ``/work`` is a tmpfs of
  ``disk_mb`` (on overlay2/ext4 the engine has no per-container disk quota; a tmpfs size does
  limit), ``/tmp`` a tmpfs of ``tmp_mb``; the head's export arrives as a tar on stdin, results
  leave as the launcher's report on stdout (``launcher.py``, ``protocol.py``);
* memory (swap off) including those tmpfs pages, CPUs and pids from the operator config;
* ``network_mode=none`` (loopback works), or the isolated network a suite opted in to;
* an environment built from scratch (``model.BASE_ENV`` plus what the caller passes);
* labels (``io.aither.sandbox``, run id, creation time) so ``sweep.py`` removes what a dead
  worker left; the container is removed when the command ends, times out or the run is cancelled.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable
from pathlib import Path

import docker
import requests.exceptions

from aither_assets.config.operator import SandboxConfig
from aither_assets.runtime import cancellation
from aither_assets.sandbox import protocol
from aither_assets.sandbox.model import (
    WORKDIR,
    Limits,
    SandboxConfigError,
    SandboxRequest,
    SandboxResult,
    StopReason,
    stop_reason,
)

LABEL = "io.aither.sandbox"
RUN_LABEL = "io.aither.sandbox.run-id"
CREATED_LABEL = "io.aither.sandbox.created"
WHAT_LABEL = "io.aither.sandbox.command"
ISOLATED_NETWORK = "aither-sandbox-isolated"
#: Time the launcher gets beyond the command's timeout to unpack, kill and report before the host kills it.
GRACE_SECONDS = 10.0
#: The launcher's own tmpfs for the command's captured output.
RUN_DIR = "/run/aither"
_SAFE = re.compile(r"[^a-z0-9_.-]+")
_network_lock = threading.Lock()


class Sandbox:
    """Runs requests under one operator config for one run; packs each working tree once.

    Use as a context manager (or call ``close``): it owns the packed trees' temporary folder.
    ``secrets`` are values (the control plane's token, webhook secret, ...) that must never come
    back out of a container: they are masked in what does and the result says so.
    """

    def __init__(self, config: SandboxConfig, run_id: str = "adhoc", secrets: Iterable[str] = ()):
        self.config = config
        self.limits = Limits.from_config(config)
        self.run_id = run_id
        self.secrets = tuple(s for s in secrets if s)
        self._scratch = Path(tempfile.mkdtemp(prefix="aither-sandbox-"))
        self._trees: dict[Path, Path] = {}
        self._lock = threading.Lock()
        self._version: str | None = None

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        shutil.rmtree(self._scratch, ignore_errors=True)

    # -- policy -----------------------------------------------------------------------------

    def image_for(self, requested: str | None, field: str) -> str:
        """The runner image for a command: the repo's choice if the operator lists it, else the default."""
        if requested is None:
            return self.config.default_runner_image
        if requested not in self.config.runner_images:
            raise SandboxConfigError(
                f".aither/pipeline.yaml: {field}: runner image is not allowed by the operator config "
                f"(sandbox.runner_images: {list(self.config.runner_images)}) (got {requested!r})")
        return requested

    def network_for(self, requested: str | None, field: str) -> str:
        if requested in (None, "none"):
            return "none"
        if not self.config.allow_network:
            raise SandboxConfigError(
                f".aither/pipeline.yaml: {field}: the operator config does not allow a network for PR commands "
                f"(sandbox.allow_network: false) (got {requested!r})")
        return requested

    # -- running ----------------------------------------------------------------------------

    def tree(self, root: Path) -> Path:
        """The tar of ``root`` handed to every container of this run (made once)."""
        root = Path(root).resolve()
        with self._lock:
            if root not in self._trees:
                target = self._scratch / f"tree-{len(self._trees)}.tar"
                self._trees[root] = protocol.pack_tree(root, target)
            return self._trees[root]

    def _api(self) -> docker.APIClient:
        api = docker.APIClient(version=self._version or "auto", timeout=120)
        self._version = api.api_version
        return api

    def run(self, request: SandboxRequest, root: Path) -> SandboxResult:
        """Run ``request`` with a copy of ``root`` as its working folder; never raises for what the command did.

        Raises ``cancellation.Cancelled`` (after removing the container) when the run is cancelled.
        """
        started = time.monotonic()
        tree = self.tree(root)
        api = self._api()
        cid: str | None = None
        try:
            try:
                cid = self._create(api, request)
                sock = api.attach_socket(cid, params={"stdin": 1, "stream": 1})
                api.start(cid)
            except docker.errors.ImageNotFound:
                return self._failed(request, started, f"runner image {request.image!r} is not on the Docker engine "
                                    "(the operator provides it; the dev stack's is built by: "
                                    "python -m aither_assets.devstack.runnerimage)")
            except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
                return self._failed(request, started, f"the sandbox could not start: {_api_error(exc)}")
            self._send(sock, protocol.header(request), tree)
            setup = time.monotonic() - started
            host_killed = self._wait(api, cid, started + request.timeout + GRACE_SECONDS)
            info = api.inspect_container(cid)
            logs = api.logs(cid, stdout=True, stderr=False)
            launcher_err = api.logs(cid, stdout=False, stderr=True, tail=20)
        finally:
            teardown_started = time.monotonic()
            if cid is not None:
                _remove(api, cid)
            teardown = time.monotonic() - teardown_started
            api.close()
        return self._result(request, started, setup, teardown, cid, host_killed, info, logs, launcher_err)

    def _create(self, api: docker.APIClient, request: SandboxRequest) -> str:
        network = request.network
        if network == "isolated":
            ensure_isolated_network(api)
        limits = self.limits
        tmpfs = {
            WORKDIR: f"rw,exec,nosuid,nodev,size={limits.disk_mb}m,"
                     f"uid={protocol.SANDBOX_UID},gid={protocol.SANDBOX_UID},mode=0700",
            "/tmp": f"rw,nosuid,nodev,size={limits.tmp_mb}m,mode=1777",
            RUN_DIR: f"rw,noexec,nosuid,nodev,size={2 * request.max_output_bytes // (1 << 20) + 1}m,"
                     f"uid={protocol.SANDBOX_UID},gid={protocol.SANDBOX_UID},mode=0700",
        }
        host_config = api.create_host_config(
            network_mode=ISOLATED_NETWORK if network == "isolated" else "none",
            read_only=True,
            cap_drop=["ALL"],
            security_opt=["no-new-privileges"],
            tmpfs=tmpfs,
            mem_limit=f"{limits.memory_mb}m",
            memswap_limit=f"{limits.memory_mb}m",  # the same: no swap to spill into
            nano_cpus=int(limits.cpus * 1e9),
            pids_limit=limits.pids,
            ipc_mode="private",
            shm_size=f"{limits.tmp_mb}m",  # /dev/shm is one more writable tmpfs: as small as /tmp
            log_config=docker.types.LogConfig(type="json-file", config={"max-size": "64m", "max-file": "1"}),
        )
        label = _SAFE.sub("-", request.label.lower())[:40].strip("-") or "cmd"
        container = api.create_container(
            image=request.image,
            command=["python3", protocol.LAUNCHER_PATH],
            user=f"{protocol.SANDBOX_UID}:{protocol.SANDBOX_UID}",
            working_dir=WORKDIR,
            environment=[],  # the image's PATH/LANG only; the command's env is in the header
            stdin_open=True,  # the SDK sets StdinOnce with it: stdin closes when we hang up
            use_config_proxy=False,  # never copy proxy settings (and any credentials in them) from our config
            tty=False,
            hostname="sandbox",
            name=f"aither-sandbox-{label}-{uuid.uuid4().hex[:10]}",
            labels={LABEL: "1", RUN_LABEL: self.run_id, CREATED_LABEL: str(int(time.time())), WHAT_LABEL: label},
            network_disabled=network != "isolated",
            host_config=host_config,
        )
        return container["Id"]

    @staticmethod
    def _send(sock, header: bytes, tree: Path) -> None:
        raw = getattr(sock, "_sock", sock)
        try:
            raw.settimeout(120)
            raw.sendall(header)
            with open(tree, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    raw.sendall(chunk)
            raw.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the container ended before reading it all: its report (or its absence) says why
        finally:
            sock.close()

    @staticmethod
    def _wait(api: docker.APIClient, cid: str, deadline: float) -> bool:
        """Wait for the container to end; kill it at ``deadline`` (True) or when the run is cancelled."""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                _kill(api, cid)
                return True
            try:
                api.wait(cid, timeout=max(0.05, min(1.0, remaining)))
                return False
            except requests.exceptions.RequestException:
                pass  # still running
            if cancellation.requested():
                _kill(api, cid)
                raise cancellation.Cancelled(f"run cancelled while sandbox {cid[:12]} ran")

    def _failed(self, request: SandboxRequest, started: float, message: str) -> SandboxResult:
        return SandboxResult(request.argv, None, time.monotonic() - started, start_error=message)

    def _result(self, request, started, setup, teardown, cid, host_killed, info, logs, launcher_err) -> SandboxResult:
        outcome = protocol.read_outcome(logs, request.collect, request.max_result_bytes + request.max_output_bytes)
        status = outcome.status
        state = info.get("State") or {}
        hit: set[StopReason] = set()
        if state.get("OOMKilled") or int(status.get("oom_kills") or 0) > 0:
            hit.add("oom")
        if int(status.get("pids_max_hits") or 0) > 0:
            hit.add("pids")
        if status.get("disk_full"):
            hit.add("disk")
        if host_killed or status.get("timed_out"):
            hit.add("timeout")
        stopped, reason = stop_reason(self.limits, hit, request.timeout)
        found = False
        texts = {}
        for name in ("stdout", "stderr"):
            data, leaked = protocol.scrub(getattr(outcome, name), self.secrets)
            found |= leaked
            texts[name] = data.decode("utf-8", errors="replace")
        files = {}
        for name, data in outcome.files.items():
            files[name], leaked = protocol.scrub(data, self.secrets)
            found |= leaked
        start_error = status.get("start_error")
        if outcome.problem and stopped is None:
            detail = protocol.scrub(launcher_err, self.secrets)[0].decode("utf-8", "replace").strip()[-300:]
            start_error = f"{outcome.problem}; container exit code {state.get('ExitCode')}" + (
                f": {detail}" if detail else "")
        exit_code = status.get("exit_code") if "timeout" not in hit else None
        return SandboxResult(
            argv=request.argv,
            exit_code=exit_code if isinstance(exit_code, int) else None,
            duration_seconds=time.monotonic() - started,
            stdout=texts["stdout"],
            stderr=texts["stderr"],
            start_error=str(start_error) if start_error else None,
            stopped=stopped,
            limits_hit=tuple(r for r in ("oom", "pids", "disk", "timeout") if r in hit),
            reason=reason,
            files=files,
            stdout_truncated=bool(status.get("stdout_truncated")),
            stderr_truncated=bool(status.get("stderr_truncated")),
            secret_found=found,
            container=cid,
            setup_seconds=setup,
            teardown_seconds=teardown,
        )


def _api_error(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


def _kill(api: docker.APIClient, cid: str) -> None:
    try:
        api.kill(cid)
        api.wait(cid, timeout=30)
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        pass  # already gone, or removal below deals with it


def _remove(api: docker.APIClient, cid: str) -> None:
    try:
        api.remove_container(cid, force=True, v=True)
    except docker.errors.NotFound:
        pass
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        pass  # the sweep (sweep.py) finds it by its label


def ensure_isolated_network(api: docker.APIClient) -> str:
    """The opt-in network: an internal bridge (no route off it), no host address on it, no container-to-container.

    ``internal`` keeps packets from being forwarded off the bridge; ``inhibit_ipv4`` leaves the
    bridge without an address on the host, so nothing listening on the host (Dagster, the local
    GitHub, the registry) can be reached through it; ``enable_icc=false`` keeps sandboxes apart.
    """
    with _network_lock:
        if not api.networks(names=[ISOLATED_NETWORK]):
            try:
                api.create_network(
                    ISOLATED_NETWORK, driver="bridge", internal=True, check_duplicate=True,
                    options={"com.docker.network.bridge.enable_icc": "false",
                             "com.docker.network.bridge.inhibit_ipv4": "true"},
                    labels={LABEL: "network"},
                )
            except docker.errors.APIError as exc:
                if exc.status_code != 409:
                    raise
    return ISOLATED_NETWORK
