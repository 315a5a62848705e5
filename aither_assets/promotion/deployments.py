"""GitHub Deployments for rings: environment = the ring's name, not transient (a ring outlives a PR).

One deployment per promotion attempt (ref: the PR's head SHA, payload: PR and digest), with
statuses in_progress, then success, or failure when the ring refused it (the ring's previous
deployment stays the active one: GitHub's auto_inactive only retires older ones on success).
Never raises: a promotion must not fail because GitHub is down; the error is returned.
"""

from __future__ import annotations

import logging

from aither_assets.github.client import GitHubClient, GitHubError

log = logging.getLogger(__name__)


def start_ring_deployment(client: GitHubClient, ring: str, sha: str, pr: int, digest: str,
                          production: bool) -> tuple[int | None, str | None]:
    try:
        created = client.create_deployment(sha, ring, description=f"PR #{int(pr)} {digest[:19]} to {ring}",
                                           transient=False, production=production,
                                           payload={"pr": int(pr), "digest": digest, "ring": ring})
        deployment_id = int(created["id"])
        client.set_deployment_status(deployment_id, "in_progress", description=f"deploying to {ring}")
        return deployment_id, None
    except GitHubError as exc:
        log.warning("ring %s deployment not recorded: %s", ring, exc)
        return None, str(exc)


def finish_ring_deployment(client: GitHubClient, deployment_id: int | None, state: str, url: str | None,
                           description: str) -> str | None:
    if deployment_id is None:
        return "no deployment to update"
    try:
        client.set_deployment_status(deployment_id, state, environment_url=url, description=description)
        return None
    except GitHubError as exc:
        log.warning("ring deployment %s not set to %s: %s", deployment_id, state, exc)
        return str(exc)
