"""Deployments and deployment statuses."""

from __future__ import annotations

import json
from typing import Any

from .base import StoreBase
from .db import Row
from .errors import Conflict, GitHubError, NotFound, ValidationFailed, require_choice

DEPLOYMENT_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")
_CHECK_OK = ("success", "neutral", "skipped")


class DeploymentsMixin(StoreBase):
    def create_deployment(self, owner: str, name: str, ref: str, creator: str | None = None, task: str = "deploy",
                          environment: str = "production", payload: Any = None, description: str | None = None,
                          transient_environment: bool = False, production_environment: bool | None = None,
                          required_contexts: list[str] | None = None) -> Row:
        """Create a deployment of `ref`.

        As on GitHub, omitting `required_contexts` means every status context
        (and check run) on the commit must be green, else 409.
        """
        repo = self.repo_row(owner, name)
        sha = self.bare(repo).resolve(ref) if isinstance(ref, str) else None
        if sha is None:
            raise GitHubError(f"No ref found for: {ref}", status=422)
        if not isinstance(environment, str) or not environment:
            raise ValidationFailed("Deployment", "environment", "invalid")
        self._verify_contexts(repo, sha, ref, required_contexts)
        who = self.ensure_user(creator or owner)
        now = self.db.now_iso()
        deployment_id = self.db.insert("deployments", {
            "repo_id": repo["id"], "ref": ref, "sha": sha, "task": task or "deploy", "environment": environment,
            "original_environment": environment, "transient": int(bool(transient_environment)),
            "production": int(environment == "production" if production_environment is None
                              else bool(production_environment)),
            "payload": json.dumps({} if payload is None else payload), "description": description,
            "creator_id": who["id"], "created_at": now, "updated_at": now})
        return self.deployment(repo, deployment_id)

    def _verify_contexts(self, repo: Row, sha: str, ref: str, required: list[str] | None) -> None:
        states = self._context_states(repo, sha)
        wanted = states.keys() if required is None else required
        failing = [{"context": ctx, "state": states.get(ctx, "missing")} for ctx in wanted
                   if states.get(ctx) != "success"]
        if failing:
            raise Conflict(f"Conflict: Commit status checks failed for {ref}.", errors=[
                {"contexts": failing, "resource": "Deployment", "field": "required_contexts", "code": "invalid"}])

    def _context_states(self, repo: Row, sha: str) -> dict[str, str]:
        """Latest state per context: commit statuses plus completed check runs."""
        states = {row["context"]: row["state"] for row in self.db.all(
            "SELECT context, state FROM statuses WHERE repo_id=? AND sha=? ORDER BY id", repo["id"], sha)}
        for run in self.db.all("SELECT name, status, conclusion FROM check_runs WHERE repo_id=? AND head_sha=? "
                               "ORDER BY id", repo["id"], sha):
            ok = run["status"] == "completed" and run["conclusion"] in _CHECK_OK
            states[run["name"]] = "success" if ok else (run["conclusion"] or "pending")
        return states

    def deployment(self, repo: Row, deployment_id: int) -> Row:
        row = self.db.one("SELECT * FROM deployments WHERE id=? AND repo_id=?", int(deployment_id), repo["id"])
        if row is None:
            raise NotFound()
        row["payload"] = json.loads(row["payload"])
        return row

    def list_deployments(self, repo: Row, sha: str | None = None, ref: str | None = None, task: str | None = None,
                         environment: str | None = None) -> list[Row]:
        filters = {"sha": sha, "ref": ref, "task": task, "environment": environment}
        where = "".join(f" AND {col}=?" for col, value in filters.items() if value is not None)
        args = [value for value in filters.values() if value is not None]
        rows = self.db.all(f"SELECT * FROM deployments WHERE repo_id=?{where} ORDER BY id DESC", repo["id"], *args)
        for row in rows:
            row["payload"] = json.loads(row["payload"])
        return rows

    def delete_deployment(self, repo: Row, deployment_id: int) -> None:
        deployment = self.deployment(repo, deployment_id)
        others = self.db.scalar("SELECT COUNT(*) FROM deployments WHERE repo_id=? AND id<>?", repo["id"],
                                deployment["id"])
        if others and self.deployment_state(deployment["id"]) != "inactive":
            raise ValidationFailed("Deployment", "state", "custom",
                                   "We cannot delete an active deployment unless it is the only deployment "
                                   "in a given environment.")
        with self.db.tx() as c:
            c.execute("DELETE FROM deployment_statuses WHERE deployment_id=?", (deployment["id"],))
            c.execute("DELETE FROM deployments WHERE id=?", (deployment["id"],))

    # -- statuses ------------------------------------------------------------------------

    def create_deployment_status(self, owner: str, name: str, deployment_id: int, state: str,
                                 creator: str | None = None, description: str = "", environment_url: str = "",
                                 log_url: str = "", target_url: str = "", environment: str | None = None,
                                 auto_inactive: bool = True) -> Row:
        repo = self.repo_row(owner, name)
        deployment = self.deployment(repo, deployment_id)
        require_choice(state, DEPLOYMENT_STATES, "DeploymentStatus", "state")
        if description and len(description) > 140:
            raise ValidationFailed("DeploymentStatus", "description", "custom",
                                   "description is too long (maximum is 140 characters)")
        who = self.ensure_user(creator or owner)
        environment = environment or deployment["environment"]
        with self.db.tx():
            status_id = self._insert_status(deployment["id"], state, who, description or "", environment,
                                            environment_url or "", log_url or "", target_url or log_url or "")
            self.db.update("deployments", deployment["id"], {"environment": environment,
                                                             "updated_at": self.db.now_iso()})
            if state == "success" and auto_inactive:
                self._inactivate_previous(repo, deployment["id"], environment, who)
        return self.db.one("SELECT * FROM deployment_statuses WHERE id=?", status_id)

    def _insert_status(self, deployment_id: int, state: str, who: Row, description: str, environment: str,
                       environment_url: str, log_url: str, target_url: str) -> int:
        now = self.db.now_iso()
        return self.db.insert("deployment_statuses", {
            "deployment_id": deployment_id, "state": state, "description": description, "environment": environment,
            "environment_url": environment_url, "log_url": log_url, "target_url": target_url,
            "creator_id": who["id"], "created_at": now, "updated_at": now})

    def _inactivate_previous(self, repo: Row, deployment_id: int, environment: str, who: Row) -> None:
        """GitHub's auto_inactive: earlier non-transient deployments of the same
        environment whose latest state is success get an `inactive` status."""
        earlier = self.db.all("SELECT * FROM deployments WHERE repo_id=? AND environment=? AND id<? AND transient=0",
                              repo["id"], environment, deployment_id)
        for old in earlier:
            if self.deployment_state(old["id"]) == "success":
                self._insert_status(old["id"], "inactive", who, "", environment, "", "", "")

    def deployment_state(self, deployment_id: int) -> str | None:
        return self.db.scalar("SELECT state FROM deployment_statuses WHERE deployment_id=? ORDER BY id DESC LIMIT 1",
                              deployment_id)

    def list_deployment_statuses(self, repo: Row, deployment_id: int) -> list[Row]:
        deployment = self.deployment(repo, deployment_id)
        return self.db.all("SELECT * FROM deployment_statuses WHERE deployment_id=? ORDER BY id DESC",
                           deployment["id"])

    def deployment_status(self, repo: Row, deployment_id: int, status_id: int) -> Row:
        deployment = self.deployment(repo, deployment_id)
        row = self.db.one("SELECT * FROM deployment_statuses WHERE id=? AND deployment_id=?", int(status_id),
                          deployment["id"])
        if row is None:
            raise NotFound()
        return row
