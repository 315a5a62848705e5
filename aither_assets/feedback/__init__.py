"""GitHub feedback for a PR: a status or check run per stage, one sticky comment, deployments.

``stages`` and ``comment`` are pure (a PR summary entry in, outcomes/Markdown out);
``publisher`` is the only part that calls GitHub, through ``GitHubClient``.
"""

from aither_assets.feedback.comment import MARKER, render_comment
from aither_assets.feedback.publisher import (
    APPROVAL_CONTEXT,
    FeedbackReport,
    deactivate_deployments,
    environment_name,
    publish_approval_states,
    publish_feedback,
    record_deployment,
)
from aither_assets.feedback.stages import (
    CONTEXTS,
    StageOutcome,
    overall_state,
    stage_outcomes,
    starting_entry,
)
from aither_assets.links import FeedbackLinks

__all__ = [
    "APPROVAL_CONTEXT",
    "CONTEXTS",
    "MARKER",
    "FeedbackLinks",
    "FeedbackReport",
    "StageOutcome",
    "deactivate_deployments",
    "environment_name",
    "overall_state",
    "publish_approval_states",
    "publish_feedback",
    "record_deployment",
    "render_comment",
    "stage_outcomes",
    "starting_entry",
]
