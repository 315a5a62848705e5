"""Everything that talks to GitHub goes through :class:`GitHubClient`."""

from aither_assets.github.client import GitHubClient, GitHubError, GitHubRateLimited, RetryPolicy
from aither_assets.github.models import ChangedFile, Comment, LabelEvent, PollResult, PullRequest, Review

__all__ = [
    "ChangedFile",
    "Comment",
    "GitHubClient",
    "GitHubError",
    "GitHubRateLimited",
    "LabelEvent",
    "PollResult",
    "PullRequest",
    "RetryPolicy",
    "Review",
]
