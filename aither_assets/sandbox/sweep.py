"""Remove sandbox containers a dead worker or a crash left behind, found by their labels.

A container normally goes when its command ends (runner.py). When the worker process dies
first (killed, OOM, host restart), it stays: this removes every sandbox container whose run
is no longer active, or which is older than any command may run (the 3600 s timeout cap plus
grace). Called from the preview sweep sensor and when a run starts.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aither_assets.sandbox.runner import CREATED_LABEL, GRACE_SECONDS, LABEL, RUN_LABEL

#: No PR command may run longer than this (config caps timeouts at 3600 s).
MAX_AGE_SECONDS = 3600 + GRACE_SECONDS + 60


@dataclass(frozen=True)
class Leftover:
    id: str
    run_id: str
    created: float


def stale(containers: list[Leftover], now: float, run_active: Callable[[str], bool] | None = None,
          max_age: float = MAX_AGE_SECONDS) -> list[Leftover]:
    """Those whose run is known to be over, or that are older than ``max_age`` whatever the run says."""
    return [c for c in containers
            if now - c.created > max_age or (run_active is not None and not run_active(c.run_id))]


def list_sandboxes(api) -> list[Leftover]:
    found = []
    for item in api.containers(all=True, filters={"label": LABEL}):
        labels = item.get("Labels") or {}
        try:
            created = float(labels.get(CREATED_LABEL) or item.get("Created") or 0)
        except ValueError:
            created = float(item.get("Created") or 0)
        found.append(Leftover(item["Id"], labels.get(RUN_LABEL, ""), created))
    return found


def sweep(run_active: Callable[[str], bool] | None = None, *, api=None, now: float | None = None,
          max_age: float = MAX_AGE_SECONDS) -> list[str]:
    """Remove stale sandbox containers; return their ids. Never raises for an engine problem."""
    import docker
    import requests.exceptions

    own = api is None
    try:
        api = api or docker.APIClient(version="auto", timeout=30)
        removed = []
        for leftover in stale(list_sandboxes(api), time.time() if now is None else now, run_active, max_age):
            try:
                api.remove_container(leftover.id, force=True, v=True)
                removed.append(leftover.id)
            except docker.errors.NotFound:
                pass
        return removed
    except (docker.errors.DockerException, requests.exceptions.RequestException):
        return []
    finally:
        if own and api is not None:
            api.close()
