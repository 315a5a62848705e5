"""The one place that talks to GitHub (github.com, an Enterprise host, or our local server).

Built on PyGithub, which already does pagination, App installation tokens and
secondary-rate-limit backoff. What we add:

* 429 handling and waiting for ``X-RateLimit-Reset`` (PyGithub only knows 403),
  capped so a sensor tick never sleeps past its deadline;
* conditional polling of the PR list (``If-None-Match``: a 304 costs no rate limit);
* plain dataclasses out, so nothing else in the product depends on PyGithub;
* errors that carry status and GitHub's message, and never the token.
"""

from __future__ import annotations

import json
import time
import urllib.parse
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import github
from github import Auth, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.Requester import Requester
from urllib3.response import BaseHTTPResponse

from aither_assets.github.models import (
    ChangedFile,
    Comment,
    LabelEvent,
    PollResult,
    PullRequest,
    Review,
    pull_from_json,
)

if TYPE_CHECKING:
    from aither_assets.config.operator import OperatorConfig

_RETRY_STATUSES = list(range(500, 600)) + [403, 429]
NOT_MODIFIED = object()  # what _get returns for a 304


class GitHubError(RuntimeError):
    """A GitHub call failed; ``status`` is the HTTP status (None for a network error)."""

    def __init__(self, action: str, status: int | None, message: str):
        self.action = action
        self.status = status
        self.message = message
        super().__init__(f"GitHub {action} failed: {status or 'network error'} {message}".strip())


class GitHubRateLimited(GitHubError):
    """Waiting out the rate limit would take longer than we allow; ``wait_seconds`` says how long."""

    def __init__(self, action: str, status: int | None, message: str, wait_seconds: float):
        self.wait_seconds = wait_seconds
        super().__init__(action, status, f"{message} (retry in {wait_seconds:.0f} s)")


class _Retry(GithubRetry):
    """GithubRetry plus GitHub's 429 answers, which may carry only X-RateLimit-Reset."""

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        after = super().get_retry_after(response)
        if after is None and response.headers.get("X-RateLimit-Remaining") == "0":
            reset = response.headers.get("X-RateLimit-Reset", "")
            if reset.isdigit():
                after = max(0.0, int(reset) - time.time()) + 1
        if after is not None and self.max_rate_limit_wait is not None and after > self.max_rate_limit_wait:
            raise RateLimitExceededExceedsMaxWait(response.status, _body(response), dict(response.headers), wait=after)
        return after


def _body(response: BaseHTTPResponse) -> Any:
    try:
        return response.json()
    except Exception:  # noqa: BLE001 - the body is only for the error message
        return None


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5
    backoff_seconds: float = 0.5
    max_rate_limit_wait: float = 30.0
    secondary_rate_wait: float = 30.0


@dataclass
class GitHubClient:
    """A client for one repository. Build it with :meth:`connect`."""

    repository: str
    _gh: github.Github = field(repr=False)
    requests_made: int = 0  # logical requests (retries not counted), for tick metadata and benchmarks

    @classmethod
    def connect(
        cls,
        api_url: str,
        repository: str,
        *,
        token: str | None = None,
        app_id: int | None = None,
        app_private_key: str | None = None,
        installation_id: int | None = None,
        retry: RetryPolicy = RetryPolicy(),
        timeout: int = 15,
        seconds_between_writes: float = 0.0,
    ) -> "GitHubClient":
        if app_id is not None:
            if not app_private_key or installation_id is None:
                raise ValueError("a GitHub App needs its private key and installation id")
            auth: Auth.Auth = Auth.AppAuth(app_id, app_private_key).get_installation_auth(installation_id)
        elif token:
            auth = Auth.Token(token)
        else:
            raise ValueError("no GitHub credentials: give a token or a GitHub App")
        policy = _Retry(
            total=retry.attempts,
            backoff_factor=retry.backoff_seconds,
            status_forcelist=_RETRY_STATUSES,
            secondary_rate_wait=retry.secondary_rate_wait,
            max_rate_limit_wait=retry.max_rate_limit_wait,
        )
        gh = github.Github(
            base_url=api_url.rstrip("/"),
            auth=auth,
            retry=policy,
            timeout=timeout,
            per_page=100,
            seconds_between_requests=None,
            seconds_between_writes=seconds_between_writes or None,
            lazy=True,
        )
        return cls(repository=repository, _gh=gh)

    # -- plumbing -----------------------------------------------------------------

    @property
    def _repo_path(self) -> str:
        owner, name = self.repository.split("/", 1)
        return f"/repos/{urllib.parse.quote(owner)}/{urllib.parse.quote(name)}"

    @contextmanager
    def _call(self, action: str) -> Iterator[None]:
        """Translate PyGithub/urllib3 failures into GitHubError without leaking headers."""
        try:
            yield
        except RateLimitExceededExceedsMaxWait as exc:
            raise GitHubRateLimited(action, exc.status, _message(exc.data), exc.wait) from None
        except GithubException as exc:
            raise GitHubError(action, exc.status, _message(exc.data)) from None
        except Exception as exc:  # network errors, retries exhausted
            if isinstance(exc, GitHubError):
                raise
            raise GitHubError(action, None, _describe_network_error(exc)) from None

    def _get(self, path: str, params: Mapping[str, Any] | None = None, etag: str | None = None) -> tuple[dict, Any]:
        """GET returning (headers, data); data is NOT_MODIFIED when ``etag`` still matches."""
        self.requests_made += 1
        headers = {"If-None-Match": etag} if etag else None
        status, response_headers, output = self._gh.requester.requestJson(
            "GET", path, parameters=dict(params or {}), headers=headers
        )
        if status == 304:
            return response_headers, NOT_MODIFIED
        data = json.loads(output) if output else None
        if status >= 400:
            raise Requester.createException(status, response_headers, data)
        return response_headers, data

    def _send(self, verb: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        self.requests_made += 1
        _, data = self._gh.requester.requestJsonAndCheck(verb, path, input=dict(body) if body is not None else None)
        return data

    def _paginate(self, path: str, params: Mapping[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a list endpoint, following ``Link: rel="next"``."""
        url: str | None = path
        query: Mapping[str, Any] | None = {"per_page": 100, **(params or {})}
        while url:
            headers, data = self._get(url, query)
            yield from data or []
            url, query = _next_link(headers), None

    @property
    def rate_limit(self) -> tuple[int, int]:
        """(remaining, limit) as of the last response."""
        return self._gh.rate_limiting

    # -- repository ------------------------------------------------------------------

    def clone_url(self) -> str:
        """Where git fetches this repository from (PR heads included, as refs/pull/N/head)."""
        with self._call("get repository"):
            _, data = self._get(self._repo_path)
            return str(data["clone_url"])

    @property
    def token(self) -> str | None:
        """The token for git fetches (never logged; None for App auth, which PyGithub refreshes)."""
        auth = self._gh.requester.auth
        return getattr(auth, "token", None)

    def authenticated_login(self) -> str:
        """Who our writes are authored by: the token's user, or ``<app-slug>[bot]`` for a GitHub App.

        GitHub answers ``GET /user`` with 403 for an installation token, so an App asks
        ``GET /app`` with its JWT instead.
        """
        auth = self._gh.requester.auth
        with self._call("identify the authenticated user"):
            if isinstance(auth, Auth.AppInstallationAuth):
                self.requests_made += 1
                _, data = self._gh.requester.withAuth(auth._app_auth).requestJsonAndCheck("GET", "/app")
                return f"{data['slug']}[bot]"
            _, data = self._get("/user")
            return str(data["login"])

    @property
    def app_id(self) -> int | None:
        """The GitHub App id when authenticating as an App installation (check runs need one)."""
        value = getattr(self._gh.requester.auth, "app_id", None)
        return int(value) if isinstance(value, (int, str)) and str(value).isdigit() else None

    # -- pull requests ---------------------------------------------------------------

    def poll_pulls(self, etag: str | None = None, since: str | None = None, max_pages: int | None = None) -> PollResult:
        """Pull requests changed since ``since`` (ISO time), newest first, any state.

        Sorting by ``updated`` over all states means every push, label, close or merge
        moves that PR to the top of page 1. So page 1 unchanged (304, free) means nothing
        changed anywhere, and otherwise we read only until PRs get older than ``since``.
        """
        with self._call("poll pull requests"):
            params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": 100}
            headers, data = self._get(f"{self._repo_path}/pulls", params, etag=etag)
            if data is NOT_MODIFIED:
                return PollResult(not_modified=True, etag=etag, pulls=[])
            new_etag = headers.get("etag")
            pulls: list[PullRequest] = []
            pages = 1
            while True:
                page = [pull_from_json(item) for item in data or []]
                fresh = [p for p in page if since is None or p.updated_at >= since]
                pulls.extend(fresh)
                url = _next_link(headers)
                if not url or len(fresh) < len(page) or (max_pages is not None and pages >= max_pages):
                    break
                headers, data = self._get(url)
                pages += 1
            return PollResult(not_modified=False, etag=new_etag, pulls=pulls)

    def open_pulls(self, base: str | None = None) -> list[PullRequest]:
        """Every open PR (a full resync), oldest first."""
        params: dict[str, Any] = {"state": "open", "sort": "created", "direction": "asc"}
        if base:
            params["base"] = base
        with self._call("list open pull requests"):
            return [pull_from_json(item) for item in self._paginate(f"{self._repo_path}/pulls", params)]

    def pull(self, number: int) -> PullRequest:
        with self._call(f"get pull request #{number}"):
            _, data = self._get(f"{self._repo_path}/pulls/{int(number)}")
            return pull_from_json(data)

    def pull_files(self, number: int) -> list[ChangedFile]:
        with self._call(f"list files of #{number}"):
            return [ChangedFile.from_json(f) for f in self._paginate(f"{self._repo_path}/pulls/{int(number)}/files")]

    def first_commit_at(self, number: int) -> datetime | None:
        """When the PR's first commit was authored (the earliest author date of its commits, every page).

        Author dates are what the committer's clock said: fine for delivery figures, never for a gate."""
        with self._call(f"list commits of #{number}"):
            dates = [str(((item.get("commit") or {}).get("author") or {}).get("date") or "")
                     for item in self._paginate(f"{self._repo_path}/pulls/{int(number)}/commits")]
        parsed = [datetime.fromisoformat(d.replace("Z", "+00:00")) for d in dates if d]
        return min(parsed) if parsed else None

    def reviews(self, number: int) -> list[Review]:
        with self._call(f"list reviews of #{number}"):
            return [Review.from_json(r) for r in self._paginate(f"{self._repo_path}/pulls/{int(number)}/reviews")]

    def label_events(self, number: int) -> list[LabelEvent]:
        """Who added or removed which label, oldest first (for the fork ``ok-to-test`` gate)."""
        with self._call(f"list events of #{number}"):
            events = self._paginate(f"{self._repo_path}/issues/{int(number)}/events")
            return [LabelEvent.from_json(e) for e in events if e.get("event") in ("labeled", "unlabeled")]

    def permission(self, login: str) -> str:
        """The user's permission on the repository as GitHub simplifies it: admin, write, read or none."""
        with self._call(f"get permission of {login!r}"):
            try:
                _, data = self._get(f"{self._repo_path}/collaborators/{urllib.parse.quote(login, safe='')}/permission")
            except GithubException as exc:
                if exc.status == 404:
                    return "none"
                raise
            return str(data.get("permission") or "none")

    def permission_level(self, login: str) -> str:
        """The user's role: admin, maintain, write, triage, read or none (``role_name``, which keeps maintain
        and triage apart, falling back to the simplified ``permission``)."""
        with self._call(f"get permission of {login!r}"):
            try:
                _, data = self._get(f"{self._repo_path}/collaborators/{urllib.parse.quote(login, safe='')}/permission")
            except GithubException as exc:
                if exc.status == 404:
                    return "none"
                raise
            role = str(data.get("role_name") or data.get("permission") or "none")
            return {"pull": "read", "push": "write"}.get(role, role)

    def repo_comments(self, since: str | None = None) -> list[Comment]:
        """Every issue and PR comment of the repository updated at or after ``since``, oldest update first."""
        params: dict[str, Any] = {"sort": "updated", "direction": "asc"}
        if since:
            params["since"] = since
        with self._call("list repository comments"):
            return [Comment.from_json(c) for c in self._paginate(f"{self._repo_path}/issues/comments", params)]

    def comment(self, comment_id: int) -> Comment:
        with self._call(f"get comment {comment_id}"):
            _, data = self._get(f"{self._repo_path}/issues/comments/{int(comment_id)}")
            return Comment.from_json(data)

    # -- feedback ------------------------------------------------------------------------

    def set_status(self, sha: str, state: str, context: str, description: str = "",
                   target_url: str | None = None) -> dict:
        body = {"state": state, "context": context, "description": description[:140]}
        if target_url:
            body["target_url"] = target_url
        with self._call(f"set status {context!r}"):
            return self._send("POST", f"{self._repo_path}/statuses/{_sha(sha)}", body)

    def combined_status(self, ref: str) -> dict:
        with self._call("get combined status"):
            _, data = self._get(f"{self._repo_path}/commits/{urllib.parse.quote(ref, safe='')}/status")
            return data

    def create_check_run(self, sha: str, name: str, status: str, **fields: Any) -> dict:
        with self._call(f"create check run {name!r}"):
            return self._send("POST", f"{self._repo_path}/check-runs",
                              {"name": name, "head_sha": _sha(sha), "status": status, **fields})

    def check_runs(self, sha: str) -> list[dict]:
        """The latest check run of each name on ``sha`` (every page)."""
        path = f"{self._repo_path}/commits/{_sha(sha)}/check-runs"
        runs: list[dict] = []
        with self._call(f"list check runs of {sha[:12]}"):
            page = 1
            while True:
                _, data = self._get(path, {"filter": "latest", "per_page": 100, "page": page})
                batch = (data or {}).get("check_runs") or []
                runs.extend(batch)
                if len(batch) < 100:
                    return runs
                page += 1

    def update_check_run(self, check_run_id: int, **fields: Any) -> dict:
        with self._call(f"update check run {check_run_id}"):
            return self._send("PATCH", f"{self._repo_path}/check-runs/{int(check_run_id)}", fields)

    def comments(self, number: int, since: str | None = None) -> list[Comment]:
        params = {"since": since} if since else None
        with self._call(f"list comments of #{number}"):
            return [Comment.from_json(c)
                    for c in self._paginate(f"{self._repo_path}/issues/{int(number)}/comments", params)]

    def create_comment(self, number: int, body: str) -> Comment:
        with self._call(f"comment on #{number}"):
            return Comment.from_json(self._send("POST", f"{self._repo_path}/issues/{int(number)}/comments",
                                                {"body": body}))

    def update_comment(self, comment_id: int, body: str) -> Comment:
        with self._call(f"update comment {comment_id}"):
            return Comment.from_json(self._send("PATCH", f"{self._repo_path}/issues/comments/{int(comment_id)}",
                                                {"body": body}))

    def delete_comment(self, comment_id: int) -> None:
        with self._call(f"delete comment {comment_id}"):
            self._send("DELETE", f"{self._repo_path}/issues/comments/{int(comment_id)}")

    def create_deployment(self, ref: str, environment: str, *, description: str = "", transient: bool = True,
                          production: bool = False, payload: Mapping[str, Any] | None = None) -> dict:
        body = {
            "ref": ref,
            "environment": environment,
            "description": description,
            "transient_environment": transient,
            "production_environment": production,
            "auto_merge": False,
            "required_contexts": [],
            "payload": dict(payload or {}),
        }
        with self._call(f"create deployment for {environment!r}"):
            return self._send("POST", f"{self._repo_path}/deployments", body)

    def deployments(self, environment: str | None = None) -> list[dict]:
        params = {"environment": environment} if environment else {}
        with self._call("list deployments"):
            return list(self._paginate(f"{self._repo_path}/deployments", params))

    def set_deployment_status(self, deployment_id: int, state: str, *, environment_url: str | None = None,
                              log_url: str | None = None, description: str = "") -> dict:
        body: dict[str, Any] = {"state": state, "description": description[:140], "auto_inactive": True}
        if environment_url:
            body["environment_url"] = environment_url
        if log_url:
            body["log_url"] = log_url
        with self._call(f"set deployment {deployment_id} {state}"):
            return self._send("POST", f"{self._repo_path}/deployments/{int(deployment_id)}/statuses", body)


# -- helpers ---------------------------------------------------------------------------


def _sha(sha: str) -> str:
    if not (7 <= len(sha) <= 64 and all(c in "0123456789abcdef" for c in sha.lower())):
        raise ValueError(f"not a commit SHA: {sha!r}")
    return sha


def _next_link(headers: Mapping[str, Any]) -> str | None:
    for part in headers.get("link", "").split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


def _message(data: Any) -> str:
    if isinstance(data, dict):
        message = str(data.get("message", ""))
        errors = data.get("errors")
        if errors:
            message += f" {errors}"
        return message
    return "" if data is None else str(data)[:200]


def _describe_network_error(exc: Exception) -> str:
    # urllib3's MaxRetryError names the URL only, never headers; keep just the reason.
    reason = getattr(exc, "reason", None)
    return f"{type(exc).__name__}: {reason or exc}"


def client_from_config(config: "OperatorConfig", environ: Mapping[str, str]) -> GitHubClient:
    """Build the client the operator config describes; secrets come from ``environ`` only."""
    gh = config.github
    if gh.app is not None:
        key = environ.get(gh.app.private_key_env)
        if not key:
            raise ValueError(f"environment variable {gh.app.private_key_env} (github.app.private_key_env) is not set")
        return GitHubClient.connect(
            gh.api_url, config.repository, app_id=gh.app.app_id, app_private_key=key,
            installation_id=gh.app.installation_id, seconds_between_writes=gh.seconds_between_writes,
        )
    token = environ.get(gh.token_env)
    if not token:
        raise ValueError(f"environment variable {gh.token_env} (github.token_env) is not set")
    return GitHubClient.connect(gh.api_url, config.repository, token=token,
                                seconds_between_writes=gh.seconds_between_writes)
