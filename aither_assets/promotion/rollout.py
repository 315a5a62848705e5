"""Deploy a digest to a ring, verify it there, and put the ring back when verification fails.

Verification is the deploy's health wait plus the smoke checks against the ring's own URL. Only a
verified digest stays; otherwise the container that ran before is started again from its recorded
digest (nothing is rebuilt or pulled by tag), and the result says which check failed.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aither_assets.config.pipeline import SmokeCheck
from aither_assets.environments.docker_env import PreviewError
from aither_assets.environments.ring_env import RingDeployment, RingEnvironments
from aither_assets.smoke.checks import SmokeReport, run_smoke


@dataclass(frozen=True)
class Rollout:
    ring: str
    verified: bool
    deployment: RingDeployment | None  # what runs in the ring now (the new digest, or the one put back)
    previous: RingDeployment | None  # what ran before
    verification: SmokeReport | None = None
    failure: str | None = None  # the failed check, when not verified
    restored: bool = False  # the previous digest runs again
    restore_error: str | None = None
    failed_at: float | None = None  # when the verification failed (epoch), before anything was put back


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0][:300] if text.strip() else text


def roll_out(envs: RingEnvironments, ring: str, image_ref: str, *, port: int, container_port: int, pr: int,
             sha: str, checks: Sequence[SmokeCheck], health_path: str, health_timeout: float = 60,
             smoke_deadline: float = 30, env: Mapping[str, str] | None = None) -> Rollout:
    previous = envs.current(ring)
    failure: str | None = None
    report: SmokeReport | None = None
    deployment: RingDeployment | None = None
    try:
        deployment = envs.deploy_ring(ring, image_ref, port=port, container_port=container_port, pr=pr, sha=sha,
                                      health_path=health_path, health_timeout=health_timeout, env=env)
    except PreviewError as exc:
        failure = f"health {health_path}: {_first_line(str(exc))}"
    if deployment is not None:
        if not checks:
            return Rollout(ring, True, deployment, previous)
        report = run_smoke(deployment.url, list(checks), deadline_seconds=smoke_deadline)
        if report.passed:
            return Rollout(ring, True, deployment, previous, report)
        failure = "; ".join(f"smoke {r.path}: {r.reason}" for r in report.results if not r.passed)[:600]
    # not verified: the ring goes back to what it ran before (or to nothing, if it ran nothing)
    failed_at = time.time()
    if previous is None:
        envs.remove_ring(ring)
        return Rollout(ring, False, None, None, report, failure, failed_at=failed_at)
    try:
        back = envs.deploy_ring(ring, previous.image_ref, port=port, container_port=previous.container_port,
                                pr=previous.pr, sha=previous.sha, health_path=previous.health_path,
                                health_timeout=health_timeout, env=env)
    except (PreviewError, ValueError) as exc:
        return Rollout(ring, False, None, previous, report, failure, restore_error=_first_line(str(exc)),
                       failed_at=failed_at)
    return Rollout(ring, False, back, previous, report, failure, restored=True, failed_at=failed_at)


@dataclass(frozen=True)
class LiveCheck:
    """A re-verification of what a ring's container serves now, without deploying anything."""

    ring: str
    passed: bool
    deployment: RingDeployment | None  # None: the ring's container is not running
    verification: SmokeReport | None = None
    failure: str | None = None


def verify_live(envs: RingEnvironments, ring: str, *, checks: Sequence[SmokeCheck], health_path: str | None = None,
                deadline: float = 5) -> LiveCheck:
    """Run the ring's verification (its health path, then its smoke checks) against the running container.

    Quick HTTP checks, so a sensor tick can run them; a container that is gone or stopped fails."""
    deployment = envs.current(ring)
    if deployment is None:
        return LiveCheck(ring, False, None, None, f"the {ring} container is not running")
    probe = list(checks) or [SmokeCheck(path=health_path or deployment.health_path)]
    report = run_smoke(deployment.url, probe, deadline_seconds=deadline, request_timeout=min(deadline, 5))
    if report.passed:
        return LiveCheck(ring, True, deployment, report)
    failure = "; ".join(f"smoke {r.path}: {r.reason}" for r in report.results if not r.passed)[:600]
    return LiveCheck(ring, False, deployment, report, failure)
