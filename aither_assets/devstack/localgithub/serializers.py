"""Rows -> GitHub-shaped JSON.

URLs are built from the base the request came in on (host header and
`/api/v3` prefix), as GitHub Enterprise does, so clients that follow `url`
fields and `Link` headers stay on the same server.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from .apps import INSTALLATION_PERMISSIONS
from .db import Row, iso

if TYPE_CHECKING:
    from .auth import Identity
    from .store import LocalGitHub

ROLE_TO_PERMISSION = {"admin": "admin", "maintain": "write", "write": "write", "triage": "read", "read": "read",
                      "none": "none"}


def node_id(kind: str, ident: int) -> str:
    return base64.b64encode(f"0:{kind}{ident}".encode()).decode().rstrip("=")


def q(segment: str) -> str:
    return quote(segment, safe="")


class View:
    """Serializes rows for one request (with per-request lookup caches)."""

    def __init__(self, store: LocalGitHub, api: str, web: str, identity: Identity | None = None):
        self.store = store
        self.api = api
        self.web = web
        self.identity = identity
        # Lists serialize up to 100 PRs, each naming the same users, repos and
        # branches: look each up once per request.
        self._users: dict[int, Row] = {}
        self._repos: dict[int, Row] = {}
        self._tips: dict[int, dict[str, str]] = {}
        self._roles: dict[tuple[int, int | None], str] = {}
        self._associations: dict[tuple[int, int], str] = {}

    # -- lookups --------------------------------------------------------------------

    def user_row(self, user_id: int) -> Row:
        if user_id not in self._users:
            self._users[user_id] = self.store.user_by_id(user_id)
        return self._users[user_id]

    def repo_row(self, repo_id: int) -> Row:
        if repo_id not in self._repos:
            self._repos[repo_id] = self.store.repo_by_id(repo_id)
        return self._repos[repo_id]

    def branch_tip(self, repo: Row, branch: str) -> str | None:
        if repo["id"] not in self._tips:
            self._tips[repo["id"]] = self.store.bare(repo).refs()
        return self._tips[repo["id"]].get(branch)

    def role(self, repo: Row) -> str:
        """The caller's role on the repo: admin/maintain/write/triage/read/none (cached)."""
        identity = self.identity
        key = (repo["id"], identity.user["id"] if identity and identity.user else None)
        if key not in self._roles:
            if identity is not None and identity.kind == "installation":
                # Installed apps write where installed; elsewhere they see public repos only.
                covered = self.store.installation_covers(identity.installation_id, repo["id"])
                self._roles[key] = "write" if covered else ("none" if repo["private"] else "read")
            else:
                self._roles[key] = self.store.permission(repo, identity.user if identity else None)
        return self._roles[key]

    def repo_api(self, repo: Row) -> str:
        return f"{self.api}/repos/{q(repo['owner'])}/{q(repo['name'])}"

    def repo_web(self, repo: Row) -> str:
        return f"{self.web}/{q(repo['owner'])}/{q(repo['name'])}"

    # -- users and repositories ----------------------------------------------------------

    def user(self, user: Row | int | None) -> dict | None:
        if user is None:
            return None
        row = self.user_row(user) if isinstance(user, int) else user
        login = row["login"]
        return {
            "login": login, "id": row["id"], "node_id": node_id("U_", row["id"]),
            "avatar_url": f"{self.web}/avatars/{q(login)}", "gravatar_id": "",
            "url": f"{self.api}/users/{q(login)}", "html_url": f"{self.web}/{q(login)}",
            "repos_url": f"{self.api}/users/{q(login)}/repos", "type": row["type"],
            "site_admin": False, "user_view_type": "public",
        }

    def full_user(self, row: Row) -> dict:
        return {**self.user(row), "name": row["login"], "company": None, "blog": "", "location": None,
                "email": None, "bio": None, "public_repos": 0, "followers": 0, "following": 0,
                "created_at": row["created_at"], "updated_at": row["created_at"]}

    def repo(self, repo: Row, full: bool = False) -> dict:
        base = self.repo_api(repo)
        data = {
            "id": repo["id"], "node_id": node_id("R_", repo["id"]), "name": repo["name"],
            "full_name": repo["full_name"], "private": bool(repo["private"]),
            "owner": self.user(repo["owner_id"]), "html_url": self.repo_web(repo),
            "description": repo["description"], "fork": bool(repo["fork"]), "url": base,
            "pulls_url": base + "/pulls{/number}", "issues_url": base + "/issues{/number}",
            "statuses_url": base + "/statuses/{sha}", "commits_url": base + "/commits{/sha}",
            "branches_url": base + "/branches{/branch}", "labels_url": base + "/labels{/name}",
            "deployments_url": base + "/deployments", "git_refs_url": base + "/git/refs{/sha}",
            "collaborators_url": base + "/collaborators{/collaborator}", "forks_url": base + "/forks",
            "created_at": repo["created_at"], "updated_at": repo["updated_at"], "pushed_at": repo["pushed_at"],
            "git_url": repo["clone_url"], "ssh_url": repo["clone_url"], "clone_url": repo["clone_url"],
            "svn_url": self.repo_web(repo), "homepage": None, "size": 0, "stargazers_count": 0,
            "watchers_count": 0, "language": None, "has_issues": True, "has_projects": False,
            "has_downloads": True, "has_wiki": False, "has_pages": False, "has_discussions": False,
            "forks_count": 0, "mirror_url": None, "archived": False, "disabled": False,
            "open_issues_count": 0, "license": None, "allow_forking": True, "is_template": False,
            "topics": [], "visibility": "private" if repo["private"] else "public", "forks": 0,
            "open_issues": 0, "watchers": 0, "default_branch": repo["default_branch"],
        }
        if self.identity is not None and self.identity.user is not None:
            data["permissions"] = self._permissions(repo)
        if full:
            if repo["parent_id"]:
                data["parent"] = self.repo(self.repo_row(repo["parent_id"]))
                data["source"] = self.repo(self.repo_row(repo["source_id"] or repo["parent_id"]))
            data.update(network_count=0, subscribers_count=0)
        return data

    def _permissions(self, repo: Row) -> dict[str, bool]:
        role = self.role(repo)
        order = ["read", "triage", "write", "maintain", "admin"]
        rank = order.index(role) if role in order else -1
        return {"admin": rank >= 4, "maintain": rank >= 3, "push": rank >= 2, "triage": rank >= 1, "pull": rank >= 0}

    def author_association(self, repo: Row, user_id: int) -> str:
        key = (repo["id"], user_id)
        if key not in self._associations:
            if user_id == repo["owner_id"]:
                self._associations[key] = "OWNER"
            else:
                collaborator = self.store.db.one("SELECT 1 AS x FROM collaborators WHERE repo_id=? AND user_id=?",
                                                 repo["id"], user_id)
                self._associations[key] = "COLLABORATOR" if collaborator else "NONE"
        return self._associations[key]

    def permission(self, repo: Row, user: Row) -> dict:
        role = self.store.permission(repo, user)
        return {"permission": ROLE_TO_PERMISSION[role], "role_name": role, "user": self.user(user)}

    # -- commits, branches, refs ------------------------------------------------------------

    def commit(self, repo: Row, commit: dict, files: list[dict] | None = None) -> dict:
        base = self.repo_api(repo)
        sha = commit["sha"]
        data = {
            "sha": sha, "node_id": node_id("C_", int(sha[:8], 16)),
            "commit": {
                "author": _person(commit["author"]), "committer": _person(commit["committer"]),
                "message": commit["message"].rstrip("\n"),
                "tree": {"sha": commit["tree"], "url": f"{base}/git/trees/{commit['tree']}"},
                "url": f"{base}/git/commits/{sha}", "comment_count": 0,
                "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                                 "verified_at": None},
            },
            "url": f"{base}/commits/{sha}", "html_url": f"{self.repo_web(repo)}/commit/{sha}",
            "comments_url": f"{base}/commits/{sha}/comments", "author": None, "committer": None,
            "parents": [{"sha": p, "url": f"{base}/commits/{p}", "html_url": f"{self.repo_web(repo)}/commit/{p}"}
                        for p in commit["parents"]],
        }
        if files is not None:
            additions = sum(f["additions"] for f in files)
            deletions = sum(f["deletions"] for f in files)
            data["stats"] = {"total": additions + deletions, "additions": additions, "deletions": deletions}
            data["files"] = [self.file(repo, f, sha) for f in files]
        return data

    def file(self, repo: Row, entry: dict, ref_sha: str) -> dict:
        path = quote(entry["filename"])
        return {**entry, "blob_url": f"{self.repo_web(repo)}/blob/{ref_sha}/{path}",
                "raw_url": f"{self.repo_web(repo)}/raw/{ref_sha}/{path}",
                "contents_url": f"{self.repo_api(repo)}/contents/{path}?ref={ref_sha}"}

    def branch(self, repo: Row, name: str, sha: str) -> dict:
        base = self.repo_api(repo)
        return {"name": name, "commit": {"sha": sha, "url": f"{base}/commits/{sha}"},
                "_links": {"self": f"{base}/branches/{quote(name)}",
                           "html": f"{self.repo_web(repo)}/tree/{quote(name)}"},
                "protected": False, "protection": {"enabled": False, "required_status_checks": {
                    "enforcement_level": "off", "contexts": [], "checks": []}},
                "protection_url": f"{base}/branches/{quote(name)}/protection"}

    def ref(self, repo: Row, ref: str, sha: str) -> dict:
        base = self.repo_api(repo)
        return {"ref": ref, "node_id": node_id("REF_", int(sha[:8], 16)), "url": f"{base}/git/{quote(ref)}",
                "object": {"sha": sha, "type": "commit", "url": f"{base}/git/commits/{sha}"}}

    # -- issues, labels, comments, events -----------------------------------------------------

    def label(self, repo: Row, row: Row) -> dict:
        return {"id": row["id"], "node_id": node_id("LA_", row["id"]),
                "url": f"{self.repo_api(repo)}/labels/{q(row['name'])}", "name": row["name"],
                "color": row["color"], "default": False, "description": row["description"]}

    def labels(self, repo: Row, issue_id: int) -> list[dict]:
        return [self.label(repo, row) for row in self.store.labels_of(issue_id)]

    def issue(self, repo: Row, issue: Row) -> dict:
        base = f"{self.repo_api(repo)}/issues/{issue['number']}"
        pull = self.store.pr_row(repo, issue["number"]) if issue.get("pull_id") else None
        kind = "pull" if pull else "issues"
        data = {
            "url": base, "repository_url": self.repo_api(repo), "labels_url": base + "/labels{/name}",
            "comments_url": base + "/comments", "events_url": base + "/events",
            "html_url": f"{self.repo_web(repo)}/{kind}/{issue['number']}", "id": issue["id"],
            "node_id": node_id("I_", issue["id"]), "number": issue["number"], "title": issue["title"],
            "user": self.user(issue["user_id"]), "labels": self.labels(repo, issue["id"]), "state": issue["state"],
            "locked": False, "assignee": None, "assignees": [], "milestone": None,
            "comments": self._comment_count(issue["id"]), "created_at": issue["created_at"],
            "updated_at": issue["updated_at"], "closed_at": issue["closed_at"],
            "author_association": self.author_association(repo, issue["user_id"]), "active_lock_reason": None,
            "body": issue["body"], "state_reason": None,
        }
        if pull:
            pulls = f"{self.repo_api(repo)}/pulls/{issue['number']}"
            data["draft"] = bool(pull["draft"])
            data["pull_request"] = {"url": pulls, "html_url": data["html_url"], "diff_url": data["html_url"] + ".diff",
                                    "patch_url": data["html_url"] + ".patch", "merged_at": pull["merged_at"]}
        return data

    def _comment_count(self, issue_id: int) -> int:
        return self.store.db.scalar("SELECT COUNT(*) FROM comments WHERE issue_id=?", issue_id)

    def comment(self, repo: Row, row: Row) -> dict:
        kind = "pull" if self.store.db.one("SELECT 1 AS x FROM pulls p JOIN issues i ON i.id = p.issue_id "
                                           "WHERE i.id=?", row["issue_id"]) else "issues"
        return {
            "id": row["id"], "node_id": node_id("IC_", row["id"]),
            "url": f"{self.repo_api(repo)}/issues/comments/{row['id']}",
            "html_url": f"{self.repo_web(repo)}/{kind}/{row['issue_number']}#issuecomment-{row['id']}",
            "body": row["body"], "user": self.user(row["user_id"]), "created_at": row["created_at"],
            "updated_at": row["updated_at"], "issue_url": f"{self.repo_api(repo)}/issues/{row['issue_number']}",
            "author_association": self.author_association(repo, row["user_id"]),
            "performed_via_github_app": None,
        }

    def event(self, repo: Row, row: Row) -> dict:
        data = {"id": row["id"], "node_id": node_id("E_", row["id"]),
                "url": f"{self.repo_api(repo)}/issues/events/{row['id']}", "actor": self.user(row["actor_id"]),
                "event": row["event"], "commit_id": row["data"].get("commit_id"), "commit_url": None,
                "created_at": row["created_at"], "performed_via_github_app": None}
        if data["commit_id"]:
            data["commit_url"] = f"{self.repo_api(repo)}/commits/{data['commit_id']}"
        for key in ("label", "rename"):
            if key in row["data"]:
                data[key] = row["data"][key]
        return data

    # -- pull requests ----------------------------------------------------------------------------

    def pull(self, repo: Row, pr: Row, full: bool = False) -> dict:
        api = f"{self.repo_api(repo)}/pulls/{pr['number']}"
        issue_api = f"{self.repo_api(repo)}/issues/{pr['number']}"
        html = f"{self.repo_web(repo)}/pull/{pr['number']}"
        statuses = f"{self.repo_api(repo)}/statuses/{pr['head_sha']}"
        data = {
            "url": api, "id": pr["id"], "node_id": node_id("PR_", pr["id"]), "html_url": html,
            "diff_url": html + ".diff", "patch_url": html + ".patch", "issue_url": issue_api,
            "commits_url": api + "/commits", "review_comments_url": api + "/comments",
            "review_comment_url": f"{self.repo_api(repo)}/pulls/comments{{/number}}",
            "comments_url": issue_api + "/comments", "statuses_url": statuses, "number": pr["number"],
            "state": pr["state"], "locked": False, "title": pr["title"], "user": self.user(pr["user_id"]),
            "body": pr["body"], "labels": self.labels(repo, pr["issue_id"]), "milestone": None,
            "active_lock_reason": None, "created_at": pr["created_at"], "updated_at": pr["updated_at"],
            "closed_at": pr["closed_at"], "merged_at": pr["merged_at"], "merge_commit_sha": pr["merge_commit_sha"],
            "assignee": None, "assignees": [], "requested_reviewers": [], "requested_teams": [],
            "head": self._pull_side(self.repo_row(pr["head_repo_id"]), pr["head_ref"], pr["head_sha"]),
            "base": self._pull_side(repo, pr["base_ref"], self._base_sha(repo, pr)),
            "_links": {"self": {"href": api}, "html": {"href": html}, "issue": {"href": issue_api},
                       "comments": {"href": issue_api + "/comments"},
                       "review_comments": {"href": api + "/comments"},
                       "review_comment": {"href": f"{self.repo_api(repo)}/pulls/comments{{/number}}"},
                       "commits": {"href": api + "/commits"}, "statuses": {"href": statuses}},
            "author_association": self.author_association(repo, pr["user_id"]), "auto_merge": None,
            "draft": bool(pr["draft"]),
        }
        if full:
            data.update(self._pull_details(repo, pr))
        return data

    def _base_sha(self, repo: Row, pr: Row) -> str | None:
        return pr["frozen_base_sha"] or self.branch_tip(repo, pr["base_ref"])

    def _pull_side(self, repo: Row, ref: str, sha: str | None) -> dict:
        return {"label": f"{repo['owner']}:{ref}", "ref": ref, "sha": sha, "user": self.user(repo["owner_id"]),
                "repo": self.repo(repo)}

    def _pull_details(self, repo: Row, pr: Row) -> dict:
        """Fields GitHub only returns for a single PR (they cost git work)."""
        details = self.store.pr_details(repo, pr)
        files, mergeable = details["files"], details["mergeable"]
        if pr["state"] != "open":
            state = "unknown"
        elif pr["draft"]:
            state = "draft"
        else:
            state = "clean" if mergeable else "dirty"
        return {
            "merged": bool(pr["merged"]), "mergeable": mergeable, "rebaseable": mergeable,
            "mergeable_state": state, "merged_by": self.user(pr["merged_by_id"]),
            "comments": self._comment_count(pr["issue_id"]), "review_comments": 0,
            "maintainer_can_modify": False, "commits": details["commits"],
            "additions": sum(f["additions"] for f in files), "deletions": sum(f["deletions"] for f in files),
            "changed_files": len(files),
        }

    def review(self, repo: Row, pr: Row, row: Row) -> dict:
        api = f"{self.repo_api(repo)}/pulls/{pr['number']}"
        html = f"{self.repo_web(repo)}/pull/{pr['number']}#pullrequestreview-{row['id']}"
        return {"id": row["id"], "node_id": node_id("PRR_", row["id"]), "user": self.user(row["user_id"]),
                "body": row["body"], "state": row["state"], "html_url": html, "pull_request_url": api,
                "author_association": self.author_association(repo, row["user_id"]),
                "_links": {"html": {"href": html}, "pull_request": {"href": api}},
                "submitted_at": row["submitted_at"], "commit_id": row["commit_id"]}

    # -- statuses and checks ---------------------------------------------------------------------

    def status(self, repo: Row, row: Row) -> dict:
        creator = self.user(row["creator_id"])
        return {"url": f"{self.repo_api(repo)}/statuses/{row['sha']}", "avatar_url": creator["avatar_url"],
                "id": row["id"], "node_id": node_id("SC_", row["id"]), "state": row["state"],
                "description": row["description"], "target_url": row["target_url"], "context": row["context"],
                "created_at": row["created_at"], "updated_at": row["updated_at"], "creator": creator}

    def combined_status(self, repo: Row, sha: str, state: str, rows: list[Row]) -> dict:
        base = self.repo_api(repo)
        return {"state": state, "statuses": [self.status(repo, row) for row in rows], "sha": sha,
                "total_count": len(rows), "repository": self.repo(repo),
                "commit_url": f"{base}/commits/{sha}", "url": f"{base}/commits/{sha}/status"}

    def check_run(self, repo: Row, row: Row) -> dict:
        base = self.repo_api(repo)
        output = row["output"]
        return {
            "id": row["id"], "head_sha": row["head_sha"], "node_id": node_id("CR_", row["id"]),
            "external_id": row["external_id"], "url": f"{base}/check-runs/{row['id']}",
            "html_url": f"{self.repo_web(repo)}/runs/{row['id']}", "details_url": row["details_url"],
            "status": row["status"], "conclusion": row["conclusion"], "started_at": row["started_at"],
            "completed_at": row["completed_at"],
            "output": {"title": output.get("title"), "summary": output.get("summary"), "text": output.get("text"),
                       "annotations_count": output.get("annotations_count", 0),
                       "annotations_url": f"{base}/check-runs/{row['id']}/annotations"},
            "name": row["name"], "check_suite": {"id": row["id"]}, "app": self.app(self.store.app_row(row["app_id"])),
            "pull_requests": self._prs_with_head(repo, row["head_sha"]),
        }

    def _prs_with_head(self, repo: Row, sha: str) -> list[dict]:
        rows = [pr for pr in self.store.pr_rows(repo, "open") if pr["head_sha"] == sha]
        return [{"url": f"{self.repo_api(repo)}/pulls/{pr['number']}", "id": pr["id"], "number": pr["number"],
                 "head": {"ref": pr["head_ref"], "sha": pr["head_sha"]},
                 "base": {"ref": pr["base_ref"], "sha": self._base_sha(repo, pr)}} for pr in rows]

    # -- deployments ----------------------------------------------------------------------------------

    def deployment(self, repo: Row, row: Row) -> dict:
        url = f"{self.repo_api(repo)}/deployments/{row['id']}"
        return {"url": url, "id": row["id"], "node_id": node_id("DE_", row["id"]), "sha": row["sha"],
                "ref": row["ref"], "task": row["task"], "payload": row["payload"],
                "original_environment": row["original_environment"], "environment": row["environment"],
                "description": row["description"], "creator": self.user(row["creator_id"]),
                "created_at": row["created_at"], "updated_at": row["updated_at"],
                "statuses_url": url + "/statuses", "repository_url": self.repo_api(repo),
                "transient_environment": bool(row["transient"]),
                "production_environment": bool(row["production"]), "performed_via_github_app": None}

    def deployment_status(self, repo: Row, row: Row) -> dict:
        deployment_url = f"{self.repo_api(repo)}/deployments/{row['deployment_id']}"
        return {"url": f"{deployment_url}/statuses/{row['id']}", "id": row["id"],
                "node_id": node_id("DES_", row["id"]), "state": row["state"], "creator": self.user(row["creator_id"]),
                "description": row["description"], "environment": row["environment"],
                "target_url": row["target_url"], "created_at": row["created_at"], "updated_at": row["updated_at"],
                "deployment_url": deployment_url, "repository_url": self.repo_api(repo),
                "environment_url": row["environment_url"], "log_url": row["log_url"],
                "performed_via_github_app": None}

    # -- webhooks --------------------------------------------------------------------------------------

    def hook(self, repo: Row, row: Row) -> dict:
        """A repository webhook; as on GitHub the secret is masked, never echoed."""
        url = f"{self.repo_api(repo)}/hooks/{row['id']}"
        config = {"content_type": row["content_type"], "insecure_ssl": row["insecure_ssl"], "url": row["url"]}
        if row["secret"]:
            config["secret"] = "********"
        return {"type": "Repository", "id": row["id"], "name": row["name"], "active": bool(row["active"]),
                "events": json.loads(row["events"]), "config": config, "updated_at": row["updated_at"],
                "created_at": row["created_at"], "url": url, "test_url": url + "/test", "ping_url": url + "/pings",
                "deliveries_url": url + "/deliveries", "last_response": json.loads(row["last_response"])}

    def hook_delivery(self, row: Row, full: bool = False) -> dict:
        """A delivery; `full` adds what was sent and received (request headers carry
        only the HMAC signatures, never the secret)."""
        data = {"id": row["id"], "guid": row["guid"], "delivered_at": row["delivered_at"] or row["created_at"],
                "redelivery": bool(row["redelivery"]), "duration": float(row["duration"] or 0), "status": row["status"],
                "status_code": row["status_code"], "event": row["event"], "action": row["action"],
                "installation_id": None, "repository_id": row["repo_id"], "throttled_at": None}
        if full:
            data.update(url=row["url"],
                        request={"headers": json.loads(row["request_headers"] or "{}"),
                                 "payload": json.loads(row["payload"])},
                        response={"headers": json.loads(row["response_headers"] or "{}"),
                                  "payload": row["response_body"]})
        return data

    # -- apps ------------------------------------------------------------------------------------------

    def app(self, row: Row) -> dict:
        return {"id": row["id"], "slug": row["slug"], "node_id": node_id("A_", row["id"]),
                "client_id": f"Iv1.{row['id']:016x}",
                "owner": self.user(row["owner_id"]) if row["owner_id"] else None, "name": row["name"],
                "description": "", "external_url": self.web, "html_url": f"{self.web}/apps/{q(row['slug'])}",
                "created_at": row["created_at"], "updated_at": row["created_at"],
                "permissions": dict(INSTALLATION_PERMISSIONS), "events": [],
                "installations_count": self.store.db.scalar(
                    "SELECT COUNT(*) FROM installations WHERE app_id=?", row["id"])}

    def installation(self, row: Row) -> dict:
        app = self.store.app_row(row["app_id"])
        account = self.user_row(row["account_id"])
        return {"id": row["id"], "account": self.user(account), "repository_selection": "selected",
                "access_tokens_url": f"{self.api}/app/installations/{row['id']}/access_tokens",
                "repositories_url": f"{self.api}/installation/repositories",
                "html_url": f"{self.web}/settings/installations/{row['id']}", "app_id": app["id"],
                "app_slug": app["slug"], "target_id": account["id"], "target_type": account["type"],
                "permissions": dict(INSTALLATION_PERMISSIONS), "events": [], "created_at": row["created_at"],
                "updated_at": row["created_at"], "single_file_name": None, "has_multiple_single_files": False,
                "single_file_paths": [], "suspended_by": None, "suspended_at": None}


def _person(person: dict) -> dict:
    return {"name": person["name"], "email": person["email"], "date": iso(person["epoch"])}


def public_data(value: Any) -> Any:
    """Rows may contain Paths; make them JSON-able for CLI output."""
    if isinstance(value, dict):
        return {k: public_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [public_data(v) for v in value]
    return value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
