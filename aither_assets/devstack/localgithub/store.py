"""`LocalGitHub`: the Python API over one data dir.

Everything is persisted in `DIR/state.sqlite3` and `DIR/repos/<owner>/<name>.git`,
so any number of `LocalGitHub` instances (in any process) share one state;
a running server sees changes made here immediately.

The methods are grouped by concern in the mixins below; this class only
assembles them.  Errors are raised as `errors.GitHubError` subclasses
carrying the status and message GitHub would answer.
"""

from __future__ import annotations

from .apps import AppsMixin
from .checks import ChecksMixin
from .deployments import DeploymentsMixin
from .faults import FaultsMixin
from .issues import IssuesMixin
from .pulls import PullsMixin
from .ratelimit import RateLimitMixin
from .repos import ReposMixin
from .requestlog import RequestLogMixin
from .webhooks import WebhooksMixin


class LocalGitHub(PullsMixin, IssuesMixin, ChecksMixin, DeploymentsMixin, AppsMixin, WebhooksMixin, ReposMixin,
                  FaultsMixin, RateLimitMixin, RequestLogMixin):
    """A local GitHub: users, repos, PRs, statuses, checks, deployments, apps, webhooks.

    Usage::

        gh = LocalGitHub(tmp_path / "gh")
        token = gh.create_user("alice")
        gh.create_repo("alice", "app", source_dir="./example")
        gh.commit_files("alice", "app", "feature", {"README.md": "hi"}, "docs")
        number = gh.open_pr("alice", "app", head="feature", base="main", title="Docs")
        gh.create_hook("alice", "app", "http://127.0.0.1:9000/hook", secret="s3cret")
        with gh.start_deliverer():  # the HTTP server runs one of its own
            gh.add_labels("alice", "app", number, ["bug"])  # -> pull_request "labeled"
            gh.wait_for_deliveries()
    """
