"""From a verified delivery to a queued run: the same decisions the PR sensor makes, for one PR.

The PR is read again from GitHub (the head may have moved since the event was sent), decided by
``prs.tick.decide_pull`` (drafts, labels, target branches, fork approval), and when it should run
and has no run yet, its partition is added, runs of its older heads are cancelled and the run is
submitted through the webserver's GraphQL API, Dagster's way for an outside service to launch
a run: it goes to the same queue as the sensor's runs (per-PR limit, dequeue, warm launch).
"""

from __future__ import annotations

import os
from functools import partial
from typing import Callable

import dagster as dg

from aither_assets.config.operator import OperatorConfig
from aither_assets.feedback import publish_approval_states
from aither_assets.github.client import GitHubClient
from aither_assets.prs.claims import claims_for
from aither_assets.prs.tick import TickDecision, decide_pull
from aither_assets.runs.partitions import PR_PARTITIONS_NAME
from aither_assets.runs.pipeline import (
    PIPELINE_JOB_NAME,
    approval_used_by,
    heads_with_runs,
    pipeline_run_tags,
    supersede_older_runs,
)
from aither_assets.runs.tags import TRIGGER_TAG, WEBHOOK_DELIVERY_TAG, tag_safe
from aither_assets.webhooks.events import Delivery

CLAIMANT = "webhook receiver"

# (tags) -> run id
Launch = Callable[[dict[str, str]], str]


class RunDispatcher:
    def __init__(self, config: OperatorConfig, client: GitHubClient, instance: dg.DagsterInstance, launch: Launch,
                 launch_promotion: Callable | None = None):
        self.config, self.client, self.instance, self.launch = config, client, instance, launch
        self.launch_promotion = launch_promotion
        self._bot: str | None = None

    def __call__(self, delivery: Delivery) -> str:
        assert delivery.pr_number is not None
        if delivery.event == "issue_comment":
            return self.comment(delivery)
        pr = self.client.pull(delivery.pr_number)
        if pr.state != "open":
            return "PR is not open (the PR sensor records it)"
        decision = TickDecision()
        decide_pull(self.client, self.config, pr, decision,
                    approval_used_by=partial(approval_used_by, self.instance))
        errors = publish_approval_states(self.client, **decision.approval_statuses())
        if not decision.to_run:
            return f"skipped: {decision.skipped[0][1]}" + (f" ({'; '.join(errors)})" if errors else "")
        if heads_with_runs(self.instance, [pr]):
            return f"head {pr.head_sha[:12]} has a run already"
        claims = claims_for(self.config.storage.root, self.config.state_postgres_url(os.environ))
        if not claims.claim([(pr.number, pr.head_sha)], CLAIMANT):
            holder = claims.holder(pr.number, pr.head_sha) or "another claimant"
            return f"head {pr.head_sha[:12]} is being started by the {holder}"
        if not self.instance.has_dynamic_partition(PR_PARTITIONS_NAME, pr.partition_key):
            self.instance.add_dynamic_partitions(PR_PARTITIONS_NAME, [pr.partition_key])
        cancelled = supersede_older_runs(self.instance, {pr.partition_key: pr.head_sha})
        tags = {**pipeline_run_tags(pr, decision.approvals.get(pr.number)),
                "dagster/partition": pr.partition_key, TRIGGER_TAG: "webhook",
                WEBHOOK_DELIVERY_TAG: tag_safe(delivery.guid)}
        try:
            run_id = self.launch(tags)
        except BaseException:
            claims.release(pr.number, pr.head_sha, CLAIMANT)  # so the PR sensor can start it
            raise
        superseded = f"; {cancelled} older run(s) cancelled" if cancelled else ""
        return f"run {run_id} for head {pr.head_sha[:12]}{superseded}"


    def comment(self, delivery: Delivery) -> str:
        """A PR comment: read again from GitHub (never trusted from the payload), then decided as the
        comment sensor decides it (runs/comments.py)."""
        from aither_assets.promotion.requests import Permissions
        from aither_assets.runs.comments import handle_comment

        if self.launch_promotion is None:
            return "ignored: no promotion launcher configured"
        assert delivery.comment_id is not None
        comment = self.client.comment(delivery.comment_id)
        if self._bot is None:
            self._bot = self.client.authenticated_login()
        return handle_comment(self.client, self.config, self.instance, comment, CLAIMANT, self.launch_promotion,
                              Permissions(self.client), self._bot)


def graphql_launcher(dagster_url: str, location: str, repository: str = "__repository__") -> Launch:
    """Submit ``pr_pipeline`` runs to the Dagster webserver at ``dagster_url`` (GraphQL)."""
    from urllib.parse import urlsplit

    from dagster_graphql import DagsterGraphQLClient

    url = urlsplit(dagster_url)
    client = DagsterGraphQLClient(url.hostname or "127.0.0.1", port_number=url.port,
                                  use_https=url.scheme == "https", timeout=30)

    def launch(tags: dict[str, str]) -> str:
        return client.submit_job_execution(PIPELINE_JOB_NAME, repository_location_name=location,
                                           repository_name=repository, tags=tags)

    return launch
