"""Commit statuses and check runs."""

from __future__ import annotations

import json
import re
from typing import Any

from .base import StoreBase
from .db import Row
from .errors import GitHubError, NotFound, ValidationFailed, require_choice

STATUS_STATES = ("error", "failure", "pending", "success")
CHECK_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CHECK_CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")
_FULL_SHA = re.compile(r"[0-9a-f]{40}")


class ChecksMixin(StoreBase):
    def commit_for(self, repo: Row, ref: str) -> str:
        """Resolve a SHA/branch/tag of the repo, or 422 like GitHub."""
        sha = self.bare(repo).resolve(ref)
        if sha is None:
            raise GitHubError(f"No commit found for SHA: {ref}", status=422)
        return sha

    # -- commit statuses -----------------------------------------------------------

    def create_status(self, owner: str, name: str, sha: str, state: str, target_url: str | None = None,
                      description: str | None = None, context: str = "default", creator: str | None = None) -> Row:
        repo = self.repo_row(owner, name)
        require_choice(state, STATUS_STATES, "Status", "state")
        if description is not None and len(description) > 140:
            raise ValidationFailed("Status", "description", "custom",
                                   "description is too long (maximum is 140 characters)")
        if not isinstance(sha, str) or not _FULL_SHA.fullmatch(sha):
            raise GitHubError(f"No commit found for SHA: {sha}", status=422)
        sha = self.commit_for(repo, sha)
        who = self.ensure_user(creator or owner)
        now = self.db.now_iso()
        status_id = self.db.insert("statuses", {
            "repo_id": repo["id"], "sha": sha, "state": state, "target_url": target_url,
            "description": description, "context": context or "default", "creator_id": who["id"],
            "created_at": now, "updated_at": now})
        return self.db.one("SELECT * FROM statuses WHERE id=?", status_id)

    def list_statuses(self, repo: Row, ref: str) -> list[Row]:
        """Newest first, as GitHub lists them."""
        sha = self._known_commit(repo, ref)
        return self.db.all("SELECT * FROM statuses WHERE repo_id=? AND sha=? ORDER BY id DESC", repo["id"], sha)

    def combined_status(self, repo: Row, ref: str) -> tuple[str, str, list[Row]]:
        """(sha, overall state, latest status per context)."""
        sha = self._known_commit(repo, ref)
        latest = self.db.all(
            "SELECT * FROM statuses WHERE id IN (SELECT MAX(id) FROM statuses WHERE repo_id=? AND sha=? "
            "GROUP BY context) ORDER BY id", repo["id"], sha)
        return sha, overall_state([row["state"] for row in latest]), latest

    def _known_commit(self, repo: Row, ref: str) -> str:
        sha = self.bare(repo).resolve(ref)
        if sha is None:
            raise NotFound(f"No commit found for SHA: {ref}")
        return sha

    # -- check runs -------------------------------------------------------------------

    def create_check_run(self, owner: str, name: str, app_id: int, check_name: str, head_sha: str,
                         **fields: Any) -> Row:
        """A check run owned by app `app_id` (fields: status, conclusion, details_url,
        external_id, started_at, completed_at, output)."""
        repo = self.repo_row(owner, name)
        if not isinstance(check_name, str) or not check_name:
            raise ValidationFailed("CheckRun", "name", "missing_field")
        sha = self.commit_for(repo, head_sha)
        now = self.db.now_iso()
        values = {"repo_id": repo["id"], "head_sha": sha, "name": check_name, "status": "queued",
                  "conclusion": None, "details_url": None, "external_id": None, "started_at": now,
                  "completed_at": None, "output": "{}", "app_id": app_id}
        values.update(self._check_fields(fields, values))
        run_id = self.db.insert("check_runs", values)
        return self.check_run(repo, run_id)

    def update_check_run(self, owner: str, name: str, run_id: int, **fields: Any) -> Row:
        repo = self.repo_row(owner, name)
        current = self.check_run(repo, run_id)
        if "name" in fields:
            fields["check_name"] = fields.pop("name")
        self.db.update("check_runs", current["id"], self._check_fields(fields, current))
        return self.check_run(repo, run_id)

    def _check_fields(self, fields: dict[str, Any], current: Row) -> Row:
        values: Row = {}
        for key in ("details_url", "external_id", "started_at", "completed_at"):
            if fields.get(key) is not None:
                values[key] = fields[key]
        if fields.get("check_name"):
            values["name"] = fields["check_name"]
        if fields.get("output") is not None:
            previous = current.get("output") or {}
            if isinstance(previous, str):  # a stored row holds JSON text; check_run() hands it back parsed
                previous = json.loads(previous)
            values["output"] = json.dumps(_merge_output(previous, fields["output"]))
        status = fields.get("status")
        conclusion = fields.get("conclusion")
        if status is not None:
            values["status"] = require_choice(status, CHECK_STATUSES, "CheckRun", "status")
        if conclusion is not None:
            values["conclusion"] = require_choice(conclusion, CHECK_CONCLUSIONS, "CheckRun", "conclusion")
            values["status"] = "completed"  # GitHub: a conclusion completes the run
        if values.get("status") == "completed":
            if not (values.get("conclusion") or current.get("conclusion")):
                raise ValidationFailed("CheckRun", "conclusion", "missing_field")
            values.setdefault("completed_at", current.get("completed_at") or self.db.now_iso())
        return values

    def check_run(self, repo: Row, run_id: int) -> Row:
        row = self.db.one("SELECT * FROM check_runs WHERE id=? AND repo_id=?", int(run_id), repo["id"])
        if row is None:
            raise NotFound()
        row["output"] = json.loads(row["output"])
        return row

    def list_check_runs(self, repo: Row, ref: str, check_name: str | None = None, status: str | None = None,
                        latest_only: bool = True) -> list[Row]:
        sha = self._known_commit(repo, ref)
        rows = self.db.all("SELECT * FROM check_runs WHERE repo_id=? AND head_sha=? ORDER BY id DESC",
                           repo["id"], sha)
        if latest_only:
            rows = _latest_per_name(rows)
        rows = [r for r in rows if (check_name is None or r["name"] == check_name)
                and (status is None or r["status"] == status)]
        for row in rows:
            row["output"] = json.loads(row["output"])
        return rows


def _latest_per_name(rows_newest_first: list[Row]) -> list[Row]:
    """GitHub's filter=latest: only the most recent run of each name (per app)."""
    seen: set[tuple[str, int]] = set()
    latest = []
    for row in rows_newest_first:
        if (row["name"], row["app_id"]) not in seen:
            seen.add((row["name"], row["app_id"]))
            latest.append(row)
    return latest


def overall_state(states: list[str]) -> str:
    """GitHub's combined state: failure beats pending beats success."""
    if any(state in ("error", "failure") for state in states):
        return "failure"
    if not states or any(state == "pending" for state in states):
        return "pending"
    return "success"


def _merge_output(current: dict, new: Any) -> dict:
    if not isinstance(new, dict):
        raise ValidationFailed("CheckRun", "output", "invalid")
    merged = {**current, **{k: v for k, v in new.items() if k != "annotations"}}
    merged["annotations_count"] = current.get("annotations_count", 0) + len(new.get("annotations") or [])
    return merged
