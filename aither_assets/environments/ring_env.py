"""Ring environments: one long-lived container ``<app>-<ring>`` per ring, running exactly one digest.

The same locked-down container as a preview (docker_env.py), with its own owner label so the
preview sweep never sees it (a ring outlives the PR whose build it runs), no expiry, and labels
that say what it runs (PR, SHA, digest reference, container port, health path) so the ring can be
put back on it after a failed promotion without asking anyone. The name comes from the operator's
app name and ring, never from the PR.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

import docker

from aither_assets.environments.docker_env import (
    _HEALTH_PATH,
    _SHA,
    APP_LABEL,
    PR_LABEL,
    SHA_LABEL,
    PreviewEnvironments,
    _check_port,
    _check_pr,
    validate_env,
    validate_image_ref,
)

RING_OWNER_LABEL = "io.aither.ring-managed"
RING_LABEL = "io.aither.ring"
IMAGE_LABEL = "io.aither.image-ref"
CONTAINER_PORT_LABEL = "io.aither.container-port"
HEALTH_LABEL = "io.aither.health-path"
STARTED_LABEL = "io.aither.started-at"

_RING = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")


@dataclass(frozen=True)
class RingDeployment:
    ring: str
    name: str
    url: str
    port: int
    image_ref: str  # repo@sha256:...
    pr: int
    sha: str
    container_port: int
    health_path: str
    started_at: str

    @property
    def digest(self) -> str:
        return self.image_ref.rpartition("@")[2]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class RingEnvironments(PreviewEnvironments):
    def __init__(self, client: docker.DockerClient | None = None, *, app: str, url_host: str = "127.0.0.1",
                 **limits: Any) -> None:
        super().__init__(client, app=app, owner_label=RING_OWNER_LABEL, url_host=url_host, **limits)

    def ring_container(self, ring: str) -> str:
        if not isinstance(ring, str) or not _RING.match(ring):
            raise ValueError(f"ring name {ring!r} must be 1-31 of a-z 0-9 - starting with a letter or digit")
        return f"{self.app}-{ring}"

    def current(self, ring: str) -> RingDeployment | None:
        """What the ring's container runs, from its labels (None: no container, or one that is not running)."""
        containers = self.client.containers.list(all=True, filters={"label": [
            f"{RING_OWNER_LABEL}=true", f"{APP_LABEL}={self.app}", f"{RING_LABEL}={ring}"]})
        for container in containers:
            if container.name == self.ring_container(ring) and container.status == "running":
                return self._describe(ring, container)
        return None

    def _describe(self, ring: str, container: Any) -> RingDeployment | None:
        labels = container.labels or {}
        try:
            ports = container.attrs["HostConfig"]["PortBindings"]
            port = int(next(iter(ports.values()))[0]["HostPort"])
            return RingDeployment(
                ring=ring, name=container.name, url=f"http://{self.url_host}:{port}", port=port,
                image_ref=labels[IMAGE_LABEL], pr=int(labels[PR_LABEL]), sha=labels[SHA_LABEL],
                container_port=int(labels[CONTAINER_PORT_LABEL]), health_path=labels[HEALTH_LABEL],
                started_at=labels.get(STARTED_LABEL, ""))
        except (KeyError, ValueError, TypeError, StopIteration, IndexError):
            return None  # not one we can describe (or put back): treated as nothing known

    def deploy_ring(self, ring: str, image_ref: str, *, port: int, container_port: int, pr: int, sha: str,
                    health_path: str = "/health", health_timeout: float = 60,
                    env: Mapping[str, str] | None = None) -> RingDeployment:
        """Replace the ring's container with one running ``image_ref`` (a digest reference) and wait for health.

        The image is resolved before the old container is touched. Raises EnvironmentUnhealthy /
        PreviewError as a preview deploy does; the caller puts the previous digest back.
        """
        name = self.ring_container(ring)
        _check_pr(pr)
        _check_port(port, "port")
        _check_port(container_port, "container_port")
        validate_image_ref(image_ref)  # a digest reference (or an image id in tests), never a tag
        if not isinstance(sha, str) or not _SHA.match(sha):
            raise ValueError(f"sha must be 7-64 lowercase hex characters, got {sha!r}")
        if not _HEALTH_PATH.match(health_path):
            raise ValueError(f"health path {health_path!r} must be a URL path starting with /")
        image_id = self._resolve_image(image_ref, pull=True)
        started = datetime.now(UTC).replace(microsecond=0).isoformat()
        labels = {
            RING_OWNER_LABEL: "true", APP_LABEL: self.app, RING_LABEL: ring, PR_LABEL: str(pr), SHA_LABEL: sha,
            IMAGE_LABEL: image_ref, CONTAINER_PORT_LABEL: str(container_port), HEALTH_LABEL: health_path,
            STARTED_LABEL: started,
        }
        environment = {"PORT": str(container_port), **validate_env(env or {}), "APP_ENV": ring,
                       "PR_NUMBER": str(pr), "COMMIT_SHA": sha}
        self._start(name, image_id, environment, labels, port, container_port, health_path, health_timeout)
        return RingDeployment(ring=ring, name=name, url=f"http://{self.url_host}:{port}", port=port,
                              image_ref=image_ref, pr=pr, sha=sha, container_port=container_port,
                              health_path=health_path, started_at=started)

    def remove_ring(self, ring: str) -> bool:
        """Remove the ring's container (ours only); True when there was one."""
        containers = self.client.containers.list(all=True, filters={"label": [
            f"{RING_OWNER_LABEL}=true", f"{APP_LABEL}={self.app}", f"{RING_LABEL}={ring}"]})
        for container in containers:
            self._remove(container)
        return bool(containers)
