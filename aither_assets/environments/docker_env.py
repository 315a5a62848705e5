"""Preview containers, one per PR: ``<app>-pr-<N>`` published on ``127.0.0.1:<port>``.

A thin layer over docker-py. Everything we start carries labels that mark it as ours
(``io.aither.managed=true`` plus PR, app, SHA and expiry), so teardown and the sweep only
ever touch containers this module created, and the sweep can remove the environments of
closed PRs and those past their TTL (the pipeline this replaces never tore anything down).

The image is PR code, so containers are locked down: no restart, memory and pids limits,
read-only root filesystem with a ``noexec`` tmpfs on ``/tmp``, every capability dropped,
``no-new-privileges``, and the port published on the loopback interface only. Environment
variables are passed as data through the Docker API (never through a shell) and their
names are validated.

Redeploy strategy: *stop and remove the old container, then start the new one*. The
preview port is the PR's stable identity (deterministic, shown in PR comments and GitHub
Deployments) and two containers cannot publish the same host port, so a blue/green swap
would need a second port and a re-publish (which Docker cannot do on a running container)
meaning a second restart anyway. The cost is a few seconds of downtime of a preview, and
a new image that fails its health check leaves the PR without an environment (the failure
is reported with the logs; the old build was superseded by the new head anyway). The
image is resolved *before* the old container is touched, so a missing image changes nothing.
"""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import docker
from docker.errors import APIError, ImageNotFound, NotFound

LABEL_PREFIX = "io.aither."
PR_LABEL = "io.aither.pr"
APP_LABEL = "io.aither.app"
SHA_LABEL = "io.aither.sha"
EXPIRES_LABEL = "io.aither.expires-at"
LOG_TAIL_LINES = 50
#: Variables the deployer sets itself; ``env`` may not override them.
RESERVED_ENV = frozenset({"PR_NUMBER", "COMMIT_SHA", "BASE_REF"})

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_LABEL_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$")
_SHA = re.compile(r"^[0-9a-f]{7,64}$")
_HEALTH_PATH = re.compile(r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*$")
_DIGEST_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]{0,254}@sha256:[0-9a-f]{64}$")
_IMAGE_ID = re.compile(r"^(?:sha256:[0-9a-f]{64}|[0-9a-f]{12,64})$")


class PreviewError(RuntimeError):
    """A preview environment could not be deployed (bad input, missing image, Docker refused)."""


class EnvironmentUnhealthy(PreviewError):
    """The container exited or never answered its health check; it has been removed."""

    def __init__(self, name: str, reason: str, logs: str) -> None:
        self.name, self.reason, self.logs = name, reason, logs
        tail = logs.strip() or "(no output)"
        super().__init__(f"{name}: {reason}\n--- last {LOG_TAIL_LINES} log lines ---\n{tail}")


@dataclass(frozen=True)
class Deployment:
    """What ``pr_environment`` records: the running container and how to reach it."""

    name: str
    container_id: str
    url: str
    port: int
    image_ref: str
    image_id: str
    started_at: str  # ISO 8601, UTC
    expires_at: str  # ISO 8601, UTC
    pr: int
    sha: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ContainerInfo:
    """A container this module manages (any state), as its labels describe it."""

    pr: int | None  # None when the PR label is unreadable
    name: str
    id: str
    expires_at: datetime | None  # None when the expiry label is missing or unreadable
    sha: str
    status: str


# --------------------------------------------------------------------------- helpers


def sanitize_app(app: str) -> str:
    """``app`` reduced to ``[a-z0-9-]`` (lowercased, runs of others -> ``-``), at most 40 chars."""
    slug = re.sub(r"[^a-z0-9]+", "-", app.lower()).strip("-")[:40].strip("-")
    if not slug:
        raise ValueError(f"app name {app!r} has no usable characters (need some of a-z 0-9)")
    return slug


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat(timespec="seconds")


def parse_expiry(value: str | None) -> datetime | None:
    """The ``io.aither.expires-at`` label as an aware UTC datetime, or None when unreadable."""
    if not value:
        return None
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _check_pr(pr: int) -> int:
    if isinstance(pr, bool) or not isinstance(pr, int) or pr <= 0:
        raise ValueError(f"PR number must be a positive integer, got {pr!r}")
    return pr


def _check_port(port: int, what: str) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ValueError(f"{what} must be an integer 1-65535, got {port!r}")
    return port


def _check_value(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"value of {name} must be a string, got {type(value).__name__}")  # noqa: TRY004 - one error type for bad input
    if "\x00" in value:
        raise ValueError(f"value of {name} contains a NUL byte")
    return value


def validate_env(env: Mapping[str, str]) -> dict[str, str]:
    """``env`` checked: POSIX-style names, string values without NUL, no reserved names."""
    checked = {}
    for name, value in env.items():
        if not isinstance(name, str) or not _ENV_NAME.match(name):
            raise ValueError(f"environment variable name {name!r} must match [A-Za-z_][A-Za-z0-9_]*")
        if name in RESERVED_ENV:
            raise ValueError(f"environment variable {name} is set by the deployer and cannot be overridden")
        checked[name] = _check_value(name, value)
    return checked


def validate_image_ref(image_ref: str) -> str:
    """A digest reference (``repo@sha256:<64 hex>``) or an image id; tags are refused.

    A tag can move between the build and the deploy; the digest is what gets deployed.
    """
    if not isinstance(image_ref, str) or not (_DIGEST_REF.match(image_ref) or _IMAGE_ID.match(image_ref)):
        raise ValueError(
            f"image reference {image_ref!r} must be a digest reference (repo@sha256:<64 hex>) "
            "or an image id (sha256:<64 hex>); tags are not deployed"
        )
    return image_ref


def _http_status(port: int, path: str, timeout: float) -> int:
    """Status of ``GET http://127.0.0.1:<port><path>`` (no proxy, no redirects followed)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"User-Agent": "aither-health/1", "Connection": "close"})
        response = conn.getresponse()
        response.read(64 * 1024)
        return response.status
    finally:
        conn.close()


# --------------------------------------------------------------------------- the class


class PreviewEnvironments:
    """Preview containers of one app, one per PR.

    ``client`` defaults to ``docker.from_env()`` (created on first use). Resource limits
    and the stop grace period are constructor options; the security options are not.
    """

    def __init__(
        self,
        client: docker.DockerClient | None = None,
        *,
        app: str,
        owner_label: str = "io.aither.managed",
        memory: str = "256m",
        pids_limit: int = 128,
        cpus: float = 1.0,
        tmpfs_size: str = "64m",
        stop_timeout: int = 5,
        url_host: str = "127.0.0.1",
    ) -> None:
        if not _LABEL_KEY.match(owner_label):
            raise ValueError(f"owner label {owner_label!r} is not a valid label key")
        self._client = client
        self.app = sanitize_app(app)
        self.owner_label = owner_label
        self.memory, self.pids_limit, self.cpus = memory, pids_limit, cpus
        self.tmpfs_size, self.stop_timeout, self.url_host = tmpfs_size, stop_timeout, url_host

    @property
    def client(self) -> docker.DockerClient:
        if self._client is None:
            self._client = docker.from_env()
        return self._client

    def name_for(self, pr: int) -> str:
        """``<app>-pr-<N>``."""
        return f"{self.app}-pr-{_check_pr(pr)}"

    # ------------------------------------------------------------------ queries

    def _ours_filter(self, pr: int | None = None) -> dict[str, Any]:
        labels = [f"{self.owner_label}=true", f"{APP_LABEL}={self.app}"]
        if pr is not None:
            labels.append(f"{PR_LABEL}={pr}")
        return {"label": labels}

    def _containers(self, pr: int | None = None) -> list[Any]:
        return self.client.containers.list(all=True, filters=self._ours_filter(pr))

    def _info(self, container: Any) -> ContainerInfo:
        labels = container.labels or {}
        raw_pr = labels.get(PR_LABEL, "")
        pr = int(raw_pr) if raw_pr.isdigit() and int(raw_pr) > 0 else None
        return ContainerInfo(
            pr=pr,
            name=container.name,
            id=container.id,
            expires_at=parse_expiry(labels.get(EXPIRES_LABEL)),
            sha=labels.get(SHA_LABEL, ""),
            status=container.status,
        )

    def list_ours(self) -> list[ContainerInfo]:
        """Every container of this app carrying our owner label, running or not."""
        return sorted((self._info(c) for c in self._containers()), key=lambda i: (i.pr or 0, i.name))

    # ------------------------------------------------------------------ removal

    def _remove(self, container: Any) -> None:
        try:
            if container.status == "running":
                container.stop(timeout=self.stop_timeout)
            container.remove(force=True, v=True)
        except NotFound:
            pass  # already gone (concurrent teardown, or --rm)
        except APIError as exc:
            if exc.status_code == 409 and "already in progress" in str(exc):
                return  # another caller is removing it
            raise

    def teardown(self, pr: int) -> bool:
        """Remove every container of ``pr`` (ours only); True when something was removed. Idempotent."""
        containers = self._containers(_check_pr(pr))
        for container in containers:
            self._remove(container)
        return bool(containers)

    def sweep(self, open_prs: set[int], now: datetime | None = None) -> list[int]:
        """Tear down our containers whose PR is not open or whose ``expires-at`` has passed.

        A container with an unreadable PR or expiry label is removed too (it is ours, and
        an environment nobody can account for is one that would never be torn down).
        Returns the PRs torn down, sorted.
        """
        moment = _utc(now or datetime.now(UTC))
        torn: set[int] = set()
        for container in self._containers():
            info = self._info(container)
            expired = info.expires_at is None or info.expires_at <= moment
            if info.pr is None or info.pr not in open_prs or expired:
                self._remove(container)
                if info.pr is not None:
                    torn.add(info.pr)
        return sorted(torn)

    # ------------------------------------------------------------------ deploy

    def _resolve_image(self, image_ref: str, pull: bool) -> str:
        try:
            return self.client.images.get(image_ref).id
        except ImageNotFound:
            if not (pull and "@" in image_ref):
                raise PreviewError(f"image {image_ref} is not present on this Docker engine") from None
        try:
            return self.client.images.pull(image_ref).id
        except APIError as exc:
            raise PreviewError(f"image {image_ref} is not local and could not be pulled: {exc}") from exc

    def _free_name(self, name: str) -> None:
        """Make sure no container named ``name`` exists; refuse to remove one that is not ours."""
        try:
            existing = self.client.containers.get(name)
        except NotFound:
            return
        labels = existing.labels or {}
        if labels.get(self.owner_label) != "true" or labels.get(APP_LABEL) != self.app:
            raise PreviewError(
                f"a container named {name} exists but is not managed by aither "
                f"(no {self.owner_label}=true / {APP_LABEL}={self.app} labels); not touching it"
            )
        self._remove(existing)

    def _logs(self, container: Any) -> str:
        try:
            raw = container.logs(stdout=True, stderr=True, tail=LOG_TAIL_LINES)
        except (APIError, NotFound) as exc:
            return f"(logs unavailable: {exc})"
        return raw.decode("utf-8", errors="replace")

    def _fail(self, container: Any, name: str, reason: str) -> EnvironmentUnhealthy:
        logs = self._logs(container)
        self._remove(container)
        return EnvironmentUnhealthy(name, reason, logs)

    def _wait_healthy(self, container: Any, name: str, port: int, health_path: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        delay = 0.1
        while True:
            container.reload()
            state = container.attrs.get("State", {})
            if container.status in ("exited", "dead"):
                raise self._fail(
                    container, name,
                    f"container exited with code {state.get('ExitCode')} before answering {health_path}"
                    + (f" ({state['Error']})" if state.get("Error") else "")
                    + (" (out of memory)" if state.get("OOMKilled") else ""),
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._fail(
                    container, name,
                    f"{health_path} on port {port} did not answer 2xx within {timeout:g}s (last: {last})",
                )
            try:
                status = _http_status(port, health_path, timeout=min(2.0, max(remaining, 0.1)))
            except (OSError, http.client.HTTPException) as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                if 200 <= status < 300:
                    return
                last = f"HTTP {status}"
            time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
            delay = min(delay * 1.5, 1.0)

    def deploy(
        self,
        pr: int,
        image_ref: str,
        *,
        port: int,
        container_port: int,
        sha: str,
        base_ref: str = "",
        env: Mapping[str, str] | None = None,
        labels: Mapping[str, str] | None = None,
        health_path: str = "/health",
        health_timeout: float = 60,
        ttl_hours: float = 72,
        pull: bool = True,
    ) -> Deployment:
        """Run ``image_ref`` as ``<app>-pr-<pr>`` on ``127.0.0.1:<port>`` and wait until it is healthy.

        ``image_ref`` is a digest reference or an image id (tags are refused); a digest
        reference missing locally is pulled when ``pull``. The container gets ``PORT`` (the
        container port, unless ``env`` sets it), ``PR_NUMBER``, ``COMMIT_SHA``, ``BASE_REF``
        and ``env``. An existing container of the PR is stopped and removed first (see the
        module docstring). Raises :class:`EnvironmentUnhealthy` (container removed, log
        tail attached) when it exits or ``health_path`` does not answer 2xx in time, and
        :class:`PreviewError` when Docker refuses to start it (e.g. the port is taken).
        """
        _check_pr(pr)
        _check_port(port, "port")
        _check_port(container_port, "container_port")
        validate_image_ref(image_ref)
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise ValueError(f"sha must be 7-64 lowercase hex characters, got {sha!r}")
        _check_value("BASE_REF", base_ref)
        extra_env = validate_env(env or {})
        if not _HEALTH_PATH.match(health_path):
            raise ValueError(f"health path {health_path!r} must be a URL path starting with /")
        if not (health_timeout > 0 and ttl_hours > 0):
            raise ValueError("health_timeout and ttl_hours must be positive")
        extra_labels = dict(labels or {})
        for key, value in extra_labels.items():
            if not isinstance(key, str) or not _LABEL_KEY.match(key):
                raise ValueError(f"label key {key!r} is not valid")
            if key.startswith(LABEL_PREFIX) or key == self.owner_label:
                raise ValueError(f"label {key} is reserved for the deployer")
            _check_value(key, value)

        name = self.name_for(pr)
        image_id = self._resolve_image(image_ref, pull)  # before touching the old container
        started = datetime.now(UTC).replace(microsecond=0)
        expires = started + timedelta(hours=ttl_hours)
        all_labels = {
            **extra_labels,
            self.owner_label: "true",
            PR_LABEL: str(pr),
            APP_LABEL: self.app,
            SHA_LABEL: sha,
            EXPIRES_LABEL: _iso(expires),
            "io.aither.image-ref": image_ref,
        }
        environment = {
            "PORT": str(container_port),
            **extra_env,
            "PR_NUMBER": str(pr),
            "COMMIT_SHA": sha,
            "BASE_REF": base_ref,
        }

        # Redeploy: stop + remove the PR's old container(s) first (same host port).
        for old in self._containers(pr):
            self._remove(old)
        container = self._start(name, image_id, environment, all_labels, port, container_port, health_path,
                                health_timeout)
        return Deployment(
            name=name,
            container_id=container.id,
            url=f"http://{self.url_host}:{port}",
            port=port,
            image_ref=image_ref,
            image_id=image_id,
            started_at=_iso(started),
            expires_at=_iso(expires),
            pr=pr,
            sha=sha,
        )

    def _start(self, name: str, image_id: str, environment: Mapping[str, str], all_labels: Mapping[str, str],
               port: int, container_port: int, health_path: str, health_timeout: float) -> Any:
        """Create and start the locked-down container ``name`` and wait until it is healthy (see deploy)."""
        self._free_name(name)
        try:
            container = self.client.containers.create(
                image_id,
                name=name,
                detach=True,
                environment=environment,
                labels=all_labels,
                ports={f"{container_port}/tcp": ("127.0.0.1", port)},
                restart_policy={"Name": "no"},
                mem_limit=self.memory,
                memswap_limit=self.memory,  # no swap on top of the memory limit
                pids_limit=self.pids_limit,
                nano_cpus=int(self.cpus * 1e9),
                read_only=True,
                tmpfs={"/tmp": f"rw,noexec,nosuid,nodev,size={self.tmpfs_size}"},
                cap_drop=["ALL"],
                security_opt=["no-new-privileges"],
            )
        except APIError as exc:
            raise PreviewError(f"could not create {name}: {exc.explanation or exc}") from exc
        try:
            container.start()
        except APIError as exc:
            self._remove(container)
            raise PreviewError(f"could not start {name} on 127.0.0.1:{port}: {exc.explanation or exc}") from exc
        try:
            self._wait_healthy(container, name, port, health_path, health_timeout)
        except EnvironmentUnhealthy:
            raise
        except BaseException:
            self._remove(container)  # nothing left running on an unexpected error either
            raise
        return container
