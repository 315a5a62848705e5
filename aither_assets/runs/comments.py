"""PR comment commands on the product's path, shared by the comment sensor and the webhook receiver.

``/promote <ring>`` by a writer starts a promotion run (tagged with the comment's id, which the run
checks again with GitHub); ``/rollback <ring> [#PR]`` starts the ring's run in rollback mode for the PR
whose build the ring goes back to (the one named, else the last good one; the comment may be on any PR,
the CLI posts it on the named PR or on the PR live in the ring); ``/hold`` and ``/unhold`` are recorded
at once on the PR's build (release_policy's check_hold/check_unhold decide) and answered with a reply.
A command the control plane will not act on gets one reply saying why.
``/approve`` needs no action: approvals are read from the PR's comments when the gates are evaluated.
Both the sensor (polling every comment of the repository since its cursor) and the receiver
(``issue_comment`` deliveries) may see a comment: runs are found by the comment's tag and a claim
per comment (prs/claims.py) makes sure only one of them launches or replies.
"""

from __future__ import annotations

import logging
from typing import Callable

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.github.client import GitHubClient, GitHubError
from aither_assets.github.models import Comment
from aither_assets.markdown import md_escape
from aither_assets.promotion.commands import Command
from aither_assets.promotion.names import (
    COMMAND_COMMENT_TAG,
    PROMOTION_MODE_TAG,
    REQUESTER_TAG,
    RING_TAG,
    ring_asset_name,
)
from aither_assets.promotion.requests import Permissions, already_replied, decide_comment, reply_body
from aither_assets.prs.claims import claims_for
from aither_assets.release_policy.holds import check_hold, check_unhold
from aither_assets.release_policy.rollback import NoRollbackTarget, rollback_target
from aither_assets.runs import ring_record
from aither_assets.runs.partitions import PR_PARTITIONS_NAME
from aither_assets.runs.rollbacks import Launch, promotion_job_name, rollback_launch

log = logging.getLogger(__name__)
__all__ = ["Launch", "promotion_job_name", "handle_comment", "promotion_launch", "graphql_promotion_launcher"]


def promotion_launch(number: int, ring: str, reason: str, comment: Comment, break_glass: bool = False) -> Launch:
    tags = {RING_TAG: ring, REQUESTER_TAG: comment.author, COMMAND_COMMENT_TAG: str(comment.id),
            PROMOTION_MODE_TAG: "manual", "dagster/partition": str(number)}
    config: dict = {"reason": reason or f"/promote {ring} by {comment.author} (no reason given)"}
    if break_glass:
        config["break_glass"] = True
    run_config = {"ops": {ring_asset_name(ring): {"config": config}}}
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
    command = decision.command
    if command.verb in ("hold", "unhold"):
        return _hold(client, config, instance, comment, command, claimant, permissions, bot)
    if has_run_for(instance, comment.id):
        return f"comment {comment.id} has a run already"
    if command.verb == "rollback":
        try:
            target = command.to_pr or rollback_target(ring_record.ring_events(instance, ladder), command.ring).pr
        except NoRollbackTarget as error:
            # the error names hold reasons and failed checks (text others wrote): escaped, never as Markdown
            return _reply_once(client, config, comment, claimant, bot, f"@{comment.author}: `{command.label}` not "
                               f"started: {md_escape(str(error))}")
        request = rollback_launch(command.ring, target, command.reason,
                                  {REQUESTER_TAG: comment.author, COMMAND_COMMENT_TAG: str(comment.id)},
                                  f"rollback:{comment.id}")
    else:
        target = number
        request = promotion_launch(number, command.ring, command.reason, comment, command.break_glass)
    if not claims.claim([(number, f"promote:{comment.id}")], claimant):
        return f"comment {comment.id} is being started by another claimant"
    if not instance.has_dynamic_partition(PR_PARTITIONS_NAME, str(target)):
        instance.add_dynamic_partitions(PR_PARTITIONS_NAME, [str(target)])
    try:
        run_id = launch(request)
    except BaseException:
        claims.release(number, f"promote:{comment.id}", claimant)
        raise
    what = "rollback" if command.verb == "rollback" else "promotion"
    return f"{what} run {run_id} of #{target} to {command.ring} for {comment.author}"


def _reply_once(client: GitHubClient, config: OperatorConfig, comment: Comment, claimant: str, bot: str,
                text: str) -> str:
    number = comment.issue_number
    if not claims_for(config.storage.root).claim([(number, f"reply:{comment.id}")], claimant):
        return "reply being posted by another claimant"
    if already_replied(client, number, comment.id, bot):
        return "replied already"
    client.create_comment(number, reply_body(comment.id, text))
    return f"replied: {text}"


def _hold(client: GitHubClient, config: OperatorConfig, instance: dg.DagsterInstance, comment: Comment,
          command: Command, claimant: str, permissions: Permissions, bot: str) -> str:
    """/hold or /unhold by a writer: decided by release_policy, recorded on the PR's build (container_image,
    every build of the PR), answered once. The reply quotes only the decision, never the comment's reason."""
    number = comment.issue_number
    if not claims_for(config.storage.root).claim([(number, f"reply:{comment.id}")], claimant):
        return "reply being posted by another claimant"
    if already_replied(client, number, comment.id, bot):
        return "replied already"
    book = ring_record.hold_book_of(instance, config.rings.ladder)
    check = check_hold if command.verb == "hold" else check_unhold
    decision = check(book, number, comment.author, permissions(comment.author), command.reason)
    if decision.allowed:
        if not instance.has_dynamic_partition(PR_PARTITIONS_NAME, str(number)):
            instance.add_dynamic_partitions(PR_PARTITIONS_NAME, [str(number)])
        instance.report_runless_asset_event(ring_record.hold_observation(
            number, None, command.verb, comment.author, command.reason))
        text = f"@{comment.author}: `{command.label}` recorded: {decision.reason}."
        try:  # the sticky comment's Promotion section shows the hold (never worth a failed command)
            from aither_assets.runs.sticky import refresh_sticky_comment

            refresh_sticky_comment(instance, config, client, str(number))
        except Exception as exc:  # noqa: BLE001
            log.warning("sticky comment of #%s not updated after %s: %s", number, command.label, exc)
    else:
        text = f"@{comment.author}: `{command.label}` refused: {decision.reason}."
    client.create_comment(number, reply_body(comment.id, text))
    return f"replied: {text}"


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
