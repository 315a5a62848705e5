"""PR comment commands on the product's path, shared by the comment sensor and the webhook receiver.

``/promote <ring>`` by a writer starts a promotion run (tagged with the comment's id, which the run
checks again with GitHub); a command the control plane will not act on gets one reply saying why.
``/approve`` needs no action: approvals are read from the PR's comments when the gates are evaluated.
Both the sensor (polling every comment of the repository since its cursor) and the receiver
(``issue_comment`` deliveries) may see a comment: runs are found by the comment's tag and a claim
per comment (prs/claims.py) makes sure only one of them launches or replies.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.github.client import GitHubClient, GitHubError
from aither_assets.github.models import Comment
from aither_assets.promotion.names import (
    COMMAND_COMMENT_TAG,
    PROMOTION_MODE_TAG,
    REQUESTER_TAG,
    RING_TAG,
    ring_asset_name,
)
from aither_assets.promotion.requests import Permissions, already_replied, decide_comment, reply_body
from aither_assets.prs.claims import claims_for
from aither_assets.runs.partitions import PR_PARTITIONS_NAME


def promotion_job_name(ring: str) -> str:
    return f"promote_{ring_asset_name(ring)}"


@dataclass(frozen=True)
class Launch:
    """A promotion run to submit: job, partition, run config and tags."""

    job_name: str
    partition: str
    run_config: dict
    tags: dict[str, str]
    run_key: str


def promotion_launch(number: int, ring: str, reason: str, comment: Comment) -> Launch:
    tags = {RING_TAG: ring, REQUESTER_TAG: comment.author, COMMAND_COMMENT_TAG: str(comment.id),
            PROMOTION_MODE_TAG: "manual", "dagster/partition": str(number)}
    run_config = {"ops": {ring_asset_name(ring): {"config": {
        "reason": reason or f"/promote {ring} by {comment.author} (no reason given)"}}}}
    return Launch(promotion_job_name(ring), str(number), run_config, tags, f"promote:{comment.id}")


def has_run_for(instance: dg.DagsterInstance, comment_id: int) -> bool:
    return bool(instance.get_run_ids(filters=dg.RunsFilter(tags={COMMAND_COMMENT_TAG: str(comment_id)}), limit=1))


def handle_comment(client: GitHubClient, config: OperatorConfig, instance: dg.DagsterInstance, comment: Comment,
                   claimant: str, launch: Callable[[Launch], str], permissions: Permissions, bot: str) -> str:
    """What was done about one comment, in words (the receiver's outcome, the sensor's log)."""
    ladder = config.rings.ladder
    number = comment.issue_number
    if number is None or comment.author == bot:
        return "not a command"
    # Is it on a pull request? Only asked for comments that mention a command (one request).
    is_pull = True
    decision = decide_comment(comment, ladder, permissions, bot, is_pull=True)
    if decision.reply is None and not decision.launch:
        return "no action" if decision.command is None else f"/{decision.command.verb} {decision.command.ring} noted"
    try:
        client.pull(number)
    except GitHubError as exc:
        if exc.status != 404:
            raise
        is_pull = False
        decision = decide_comment(comment, ladder, permissions, bot, is_pull=False)
    claims = claims_for(config.storage.root)
    if decision.reply is not None:
        if not claims.claim([(number, f"reply:{comment.id}")], claimant):
            return "reply being posted by another claimant"
        if already_replied(client, number, comment.id, bot):
            return "replied already"
        client.create_comment(number, reply_body(comment.id, decision.reply))
        return f"replied: {decision.reply}"
    assert decision.command is not None and is_pull
    if has_run_for(instance, comment.id):
        return f"comment {comment.id} has a run already"
    if not claims.claim([(number, f"promote:{comment.id}")], claimant):
        return f"comment {comment.id} is being started by another claimant"
    if not instance.has_dynamic_partition(PR_PARTITIONS_NAME, str(number)):
        instance.add_dynamic_partitions(PR_PARTITIONS_NAME, [str(number)])
    request = promotion_launch(number, decision.command.ring, decision.command.reason, comment)
    try:
        run_id = launch(request)
    except BaseException:
        claims.release(number, f"promote:{comment.id}", claimant)
        raise
    return f"promotion run {run_id} of #{number} to {decision.command.ring} for {comment.author}"


def graphql_promotion_launcher(dagster_url: str, location: str,
                               repository: str = "__repository__") -> Callable[[Launch], str]:
    """Submit promotion runs to the webserver's GraphQL API (the same queue as every run)."""
    from urllib.parse import urlsplit

    from dagster_graphql import DagsterGraphQLClient

    url = urlsplit(dagster_url)
    client = DagsterGraphQLClient(url.hostname or "127.0.0.1", port_number=url.port,
                                  use_https=url.scheme == "https", timeout=30)

    def launch(request: Launch) -> str:
        return client.submit_job_execution(request.job_name, repository_location_name=location,
                                           repository_name=repository, run_config=request.run_config,
                                           tags=request.tags)

    return launch
