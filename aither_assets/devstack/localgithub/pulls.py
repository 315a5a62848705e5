"""Pull requests: opening, following pushes, state changes, merging, reviews.

As on GitHub the PR head lives in the base repository as
`refs/pull/N/head`; for a fork PR the fork's commits are fetched into the
base repository so statuses, checks and merges on the head SHA work there.

Every change queues its `pull_request` webhook event (webhooks.py) in the
transaction that makes it, so events keep commit order across processes.
"""

from __future__ import annotations

from .base import StoreBase
from .db import Row
from .errors import Conflict, GitHubError, NotFound, Unprocessable, ValidationFailed
from .gitops import BareRepo, identity_env, valid_branch_name

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
MERGE_METHODS = ("merge", "squash", "rebase", "fast-forward")
REVIEW_STATES = {"APPROVE": "APPROVED", "REQUEST_CHANGES": "CHANGES_REQUESTED", "COMMENT": "COMMENTED",
                 "APPROVED": "APPROVED", "CHANGES_REQUESTED": "CHANGES_REQUESTED", "COMMENTED": "COMMENTED",
                 "PENDING": "PENDING"}

_PR_SELECT = (
    "SELECT p.*, i.id AS issue_id, i.repo_id AS base_repo_id, i.number, i.title, i.body, i.user_id, i.state, "
    "i.created_at, i.created_key, i.updated_at, i.updated_key, i.closed_at "
    "FROM pulls p JOIN issues i ON i.id = p.issue_id ")


class NotMergeable(GitHubError):
    status = 405


class PullsMixin(StoreBase):
    # -- lookups ----------------------------------------------------------------

    def pr_row(self, repo: Row, number: int) -> Row:
        row = self.db.one(_PR_SELECT + "WHERE i.repo_id=? AND i.number=?", repo["id"], int(number))
        if row is None:
            raise NotFound()
        return row

    def pr_rows(self, repo: Row, state: str = "open") -> list[Row]:
        states = ("open", "closed") if state == "all" else (state,)
        marks = ",".join("?" for _ in states)
        return self.db.all(_PR_SELECT + f"WHERE i.repo_id=? AND i.state IN ({marks})", repo["id"], *states)

    def fresh_pr(self, repo: Row, number: int) -> Row:
        """The PR row after catching up with pushes to its head branch."""
        pr = self.pr_row(repo, number)
        return self.pr_row(repo, number) if self._sync_pr(repo, pr) else pr

    def get_pr(self, owner: str, name: str, number: int) -> dict:
        """The PR as a plain dict (for Python/CLI callers)."""
        repo = self.repo_row(owner, name)
        pr = self.fresh_pr(repo, number)
        head_repo = self.repo_by_id(pr["head_repo_id"])
        return {"number": pr["number"], "title": pr["title"], "state": pr["state"], "draft": bool(pr["draft"]),
                "merged": bool(pr["merged"]), "head_sha": pr["head_sha"], "head_ref": pr["head_ref"],
                "head_repo": head_repo["full_name"], "base_ref": pr["base_ref"], "updated_at": pr["updated_at"],
                "labels": [label["name"] for label in self.labels_of(pr["issue_id"])]}

    # -- opening -------------------------------------------------------------------

    def open_pr(self, owner: str, name: str, head: str, base: str, title: str, body: str = "",
                user: str | None = None, draft: bool = False, head_owner: str | None = None) -> int:
        """Open a PR from `head` (a branch; `owner:branch` or head_owner for a fork) into `base`."""
        repo = self.repo_row(owner, name)
        if head_owner is None and isinstance(head, str) and ":" in head:
            head_owner, head = head.split(":", 1)
        head_repo = self._head_repo(repo, head_owner)
        author = self.ensure_user(user or head_repo["owner"])
        head_sha = self._validate_new_pr(repo, head_repo, head, base, title)
        with self.git_lock(), self.db.tx():
            number = self.next_number(repo["id"])
            head_sha = self._point_pull_ref(repo, head_repo, head, number, head_sha)
            self._insert_pr(repo, head_repo, number, head, head_sha, base, title, body, author, draft)
            self.queue_pr_event(repo, number, "opened", author)
        return number

    def bulk_open_prs(self, owner: str, name: str, count: int, base: str = "main", author: str | None = None,
                      title: str = "Bulk change", draft: bool = False) -> list[int]:
        """Open `count` PRs at once, each from its own one-commit branch
        `bulk/pr-<N>` off `base` (for load tests: 1000 PRs take about a second).

        Unlike `open_pr` this queues no `opened` webhook events: rendering a
        payload per PR would cost more than opening it.
        """
        repo = self.repo_row(owner, name)
        user = self.ensure_user(author or owner)
        bare = self.bare(repo)
        base_sha = bare.branch_sha(base) if valid_branch_name(base) else None
        if base_sha is None:
            raise ValidationFailed("PullRequest", "base", "invalid")
        env = identity_env((user["login"], f"{user['login']}@localhost"), self.db.clock())
        with self.git_lock(), self.db.tx():
            first = self.next_number(repo["id"])
            numbers = list(range(first, first + count))
            specs = [(f"bulk/pr-{n}", f"bulk/pr-{n}.txt", f"change {n}\n", f"{title} {n}") for n in numbers]
            tips = bare.bulk_branches(base_sha, specs, env)
            bare.update_refs({f"refs/pull/{n}/head": tips[f"bulk/pr-{n}"] for n in numbers})
            for number in numbers:
                self._insert_pr(repo, repo, number, f"bulk/pr-{number}", tips[f"bulk/pr-{number}"], base,
                                f"{title} #{number}", "", user, draft)
        return numbers

    def _insert_pr(self, repo: Row, head_repo: Row, number: int, head: str, head_sha: str, base: str, title: str,
                   body: str, user: Row, draft: bool) -> None:
        stamp, key = self.db.tick()
        issue_id = self.db.insert("issues", {
            "repo_id": repo["id"], "number": number, "title": title, "body": body, "user_id": user["id"],
            "state": "open", "created_at": stamp, "created_key": key, "updated_at": stamp,
            "updated_key": key, "closed_at": None})
        self.db.insert("pulls", {"issue_id": issue_id, "head_repo_id": head_repo["id"], "head_ref": head,
                                 "head_sha": head_sha, "base_ref": base, "draft": int(bool(draft))})

    def _head_repo(self, repo: Row, head_owner: str | None) -> Row:
        if head_owner is None or head_owner.lower() == repo["owner"].lower():
            return repo
        root = repo["source_id"] or repo["id"]
        row = self.db.one("SELECT r.id FROM repos r JOIN users u ON u.id = r.owner_id "
                          "WHERE u.login=? AND (r.id=? OR r.source_id=?) ORDER BY r.id", head_owner, root, root)
        if row is None:
            raise ValidationFailed("PullRequest", "head", "invalid", f"{head_owner} has no fork of {repo['full_name']}")
        return self.repo_by_id(row["id"])

    def _validate_new_pr(self, repo: Row, head_repo: Row, head: str, base: str, title: str) -> str:
        """The head SHA, once the new PR is known to be valid (422 otherwise)."""
        if not isinstance(title, str) or not title.strip():
            raise ValidationFailed("PullRequest", "title", "missing_field")
        base_sha = self.bare(repo).branch_sha(base) if valid_branch_name(base) else None
        if base_sha is None:
            raise ValidationFailed("PullRequest", "base", "invalid")
        head_sha = self.bare(head_repo).branch_sha(head) if valid_branch_name(head) else None
        if head_sha is None:
            raise ValidationFailed("PullRequest", "head", "invalid")
        label = f"{head_repo['owner']}:{head}"
        for pr in self.pr_rows(repo, "open"):
            if pr["head_repo_id"] == head_repo["id"] and pr["head_ref"] == head and pr["base_ref"] == base:
                raise ValidationFailed("PullRequest", "head", "custom", f"A pull request already exists for {label}.")
        if head_repo["id"] == repo["id"] and self.bare(repo).is_ancestor(head_sha, base_sha):
            raise ValidationFailed("PullRequest", "head", "custom", f"No commits between {base} and {head}")
        return head_sha

    def _point_pull_ref(self, repo: Row, head_repo: Row, head: str, number: int, head_sha: str) -> str:
        """Make refs/pull/N/head in the base repo point at the head; returns its SHA."""
        bare = self.bare(repo)
        ref = f"refs/pull/{number}/head"
        if head_repo["id"] == repo["id"]:
            bare.update_ref(ref, head_sha)
            return head_sha
        bare.fetch(self.bare(head_repo), f"refs/heads/{head}", ref)
        return bare.ref_sha(ref) or head_sha

    # -- following pushes ---------------------------------------------------------------

    def sync_pr(self, owner: str, name: str, number: int) -> bool:
        """Re-point the PR at its head branch's tip; True if the head moved."""
        repo = self.repo_row(owner, name)
        return self._sync_pr(repo, self.pr_row(repo, number))

    def _sync_pr(self, repo: Row, pr: Row, tip: str | None = None) -> bool:
        if pr["state"] != "open":
            return False
        head_repo = self.repo_by_id(pr["head_repo_id"])
        tip = tip or self.bare(head_repo).branch_sha(pr["head_ref"])
        if tip is None or tip == pr["head_sha"]:
            return False  # branch deleted or unchanged
        with self.git_lock():
            new_sha = self._point_pull_ref(repo, head_repo, pr["head_ref"], pr["number"], tip)
        author = self.user_by_id(pr["user_id"])
        with self.db.tx() as c:
            # Compare-and-set: two readers catching up with the same push must
            # not both record it (nor both send `synchronize`).
            moved = c.execute("UPDATE pulls SET head_sha=? WHERE id=? AND head_sha=?",
                              (new_sha, pr["id"], pr["head_sha"])).rowcount
            if not moved:
                return True  # another reader recorded this push (and its event) first
            if not self.bare(repo).is_ancestor(pr["head_sha"], new_sha):
                self.add_event(pr["issue_id"], "head_ref_force_pushed", author)
            self.touch_issue(pr["issue_id"])
            # The pusher is unknown (commit_files takes a git identity): like
            # the force-push event, the PR's author stands in as the sender.
            self.queue_pr_event(repo, pr["number"], "synchronize", author, before=pr["head_sha"], after=new_sha)
        return True

    def sync_prs_for_branch(self, repo: Row, branch: str, tip: str) -> None:
        rows = self.db.all(_PR_SELECT + "WHERE p.head_repo_id=? AND p.head_ref=? AND i.state='open'",
                           repo["id"], branch)
        for pr in rows:
            self._sync_pr(self.repo_by_id(pr["base_repo_id"]), pr, tip)

    def refresh_open_prs(self, repo: Row) -> None:
        """Catch up with pushes made straight to the bare repos (e.g. `git push`).

        One `for-each-ref` per head repository keeps this cheap enough to run
        before every PR read.
        """
        tips: dict[int, dict[str, str]] = {}
        for pr in self.pr_rows(repo, "open"):
            if pr["head_repo_id"] not in tips:
                tips[pr["head_repo_id"]] = self.bare(self.repo_by_id(pr["head_repo_id"])).refs()
            tip = tips[pr["head_repo_id"]].get(pr["head_ref"])
            if tip and tip != pr["head_sha"]:
                self._sync_pr(repo, pr, tip)

    # -- state changes ---------------------------------------------------------------------

    def _pr_and_actor(self, owner: str, name: str, number: int, actor: str | None) -> tuple[Row, Row, Row]:
        repo = self.repo_row(owner, name)
        return repo, self.pr_row(repo, number), self.ensure_user(actor or owner)

    def set_draft(self, owner: str, name: str, number: int, draft: bool = True, actor: str | None = None) -> None:
        repo, pr, who = self._pr_and_actor(owner, name, number, actor)
        with self.db.tx() as c:
            if not c.execute("UPDATE pulls SET draft=? WHERE id=? AND draft<>?",
                             (int(bool(draft)), pr["id"], int(bool(draft)))).rowcount:
                return
            self.add_event(pr["issue_id"], "convert_to_draft" if draft else "ready_for_review", who)
            self.touch_issue(pr["issue_id"])
            self.queue_pr_event(repo, pr["number"], "converted_to_draft" if draft else "ready_for_review", who)

    def close_pr(self, owner: str, name: str, number: int, actor: str | None = None) -> None:
        repo, pr, who = self._pr_and_actor(owner, name, number, actor)
        if pr["state"] == "closed":
            return
        self._close(repo, pr, who, self.bare(repo).branch_sha(pr["base_ref"]))

    def _close(self, repo: Row, pr: Row, who: Row, base_sha: str | None) -> None:
        with self.db.tx() as c:
            if not c.execute("UPDATE issues SET state='closed', closed_at=? WHERE id=? AND state='open'",
                             (self.db.now_iso(), pr["issue_id"])).rowcount:
                return  # closed meanwhile
            # Freeze the diff base so files/commits of a closed PR stay stable.
            self.db.update("pulls", pr["id"], {"frozen_base_sha": base_sha})
            self.add_event(pr["issue_id"], "closed", who)
            self.touch_issue(pr["issue_id"])
            # After a merge's update in the same transaction, so `merged` is true.
            self.queue_pr_event(repo, pr["number"], "closed", who)

    def reopen_pr(self, owner: str, name: str, number: int, actor: str | None = None) -> None:
        repo, pr, who = self._pr_and_actor(owner, name, number, actor)
        if pr["merged"]:
            raise ValidationFailed("PullRequest", "state", "custom",
                                   "state cannot be changed. The pull request has been merged")
        with self.db.tx() as c:
            if not c.execute("UPDATE issues SET state='open', closed_at=NULL WHERE id=? AND state='closed'",
                             (pr["issue_id"],)).rowcount:
                return
            self.db.update("pulls", pr["id"], {"frozen_base_sha": None})
            self.add_event(pr["issue_id"], "reopened", who)
            self.touch_issue(pr["issue_id"])
            self.queue_pr_event(repo, pr["number"], "reopened", who)
        self.sync_pr(owner, name, number)  # pushes made while closed: `synchronize` follows

    def edit_pr(self, owner: str, name: str, number: int, title: str | None = None, body: str | None = None,
                base: str | None = None, state: str | None = None, actor: str | None = None) -> None:
        """Title, body and base change in one transaction with one `edited` event
        (its `changes` holds the old values, as on GitHub); state changes follow."""
        repo, pr, who = self._pr_and_actor(owner, name, number, actor)
        changes: dict = {}
        with self.db.tx() as c:
            if title is not None and title != pr["title"]:
                if not isinstance(title, str) or not title.strip():
                    raise ValidationFailed("PullRequest", "title", "missing_field")
                c.execute("UPDATE issues SET title=? WHERE id=?", (title, pr["issue_id"]))
                self.add_event(pr["issue_id"], "renamed", who, rename={"from": pr["title"], "to": title})
                changes["title"] = {"from": pr["title"]}
            if body is not None:
                c.execute("UPDATE issues SET body=? WHERE id=?", (body, pr["issue_id"]))
                if body != pr["body"]:
                    changes["body"] = {"from": pr["body"]}
            if base is not None and base != pr["base_ref"]:
                old_base_sha = self.bare(repo).branch_sha(pr["base_ref"])
                self._change_base(repo, pr, who, base)
                changes["base"] = {"ref": {"from": pr["base_ref"]}, "sha": {"from": old_base_sha}}
            self.touch_issue(pr["issue_id"])
            if changes:
                self.queue_pr_event(repo, pr["number"], "edited", who, changes=changes)
        if state == "closed":
            self.close_pr(owner, name, number, actor)
        elif state == "open":
            self.reopen_pr(owner, name, number, actor)
        elif state is not None:
            raise ValidationFailed("PullRequest", "state", "invalid")

    def _change_base(self, repo: Row, pr: Row, who: Row, base: str) -> None:
        if not valid_branch_name(base) or self.bare(repo).branch_sha(base) is None:
            raise ValidationFailed("PullRequest", "base", "invalid")
        with self.db.tx():
            self.db.update("pulls", pr["id"], {"base_ref": base})
            self.add_event(pr["issue_id"], "base_ref_changed", who)

    # -- merging -------------------------------------------------------------------------------

    def merge_pr(self, owner: str, name: str, number: int, actor: str | None = None, method: str = "merge",
                 commit_title: str | None = None, commit_message: str | None = None, sha: str | None = None) -> str:
        """Merge into the base branch for real; returns the new base tip."""
        repo, pr, who = self._pr_and_actor(owner, name, number, actor)
        if method not in MERGE_METHODS:
            raise ValidationFailed("PullRequest", "merge_method", "invalid")
        pr = self.fresh_pr(repo, number)
        self._check_mergeable(pr, sha)
        head_repo = self.repo_by_id(pr["head_repo_id"])
        message = self._merge_message(pr, head_repo, method, commit_title, commit_message)
        bare = self.bare(repo)
        with self.git_lock():
            base_before = bare.branch_sha(pr["base_ref"])
            new_tip = bare.merge_into(pr["base_ref"], pr["head_sha"], _git_method(method), message,
                                      identity_env((who["login"], f"{who['login']}@localhost"), self.db.clock()))
        if new_tip is None:
            raise NotMergeable("Pull Request is not mergeable")
        with self.db.tx():
            self.db.update("pulls", pr["id"], {"merged": 1, "merged_at": self.db.now_iso(),
                                               "merge_commit_sha": new_tip, "merged_by_id": who["id"]})
            self.add_event(pr["issue_id"], "merged", who, commit_id=new_tip)
            self._close(repo, pr, who, base_before)
        self.after_push(repo, pr["base_ref"], new_tip)
        return new_tip

    def _check_mergeable(self, pr: Row, sha: str | None) -> None:
        if pr["merged"] or pr["state"] != "open":
            raise NotMergeable("Pull Request is not mergeable")
        if pr["draft"]:
            raise NotMergeable("Pull Request is still a draft")
        if sha is not None and sha != pr["head_sha"]:
            raise Conflict("Head branch was modified. Review and try the merge again.")

    def _merge_message(self, pr: Row, head_repo: Row, method: str, title: str | None, message: str | None) -> str:
        if method == "squash":
            default_title = f"{pr['title']} (#{pr['number']})"
        else:
            default_title = f"Merge pull request #{pr['number']} from {head_repo['owner']}/{pr['head_ref']}"
        body = message if message is not None else (pr["title"] if method != "squash" else pr["body"] or "")
        return f"{title or default_title}\n\n{body}".rstrip() + "\n"

    def mergeable(self, repo: Row, pr: Row) -> bool | None:
        """GitHub's `mergeable`: None once closed, else whether it merges cleanly."""
        if pr["state"] != "open":
            return None
        base_sha = self.bare(repo).branch_sha(pr["base_ref"])
        return base_sha is not None and self.bare(repo).merge_tree(base_sha, pr["head_sha"]) is not None

    # -- diff, commits and reviews ---------------------------------------------------------------

    def diff_base(self, repo: Row, pr: Row) -> tuple[BareRepo, str]:
        """The commit the PR's changes are measured from: merge-base(base, head)."""
        bare = self.bare(repo)
        base_sha = pr["frozen_base_sha"] or bare.branch_sha(pr["base_ref"])
        merge_base = bare.merge_base(base_sha, pr["head_sha"]) if base_sha else None
        return bare, merge_base or EMPTY_TREE

    def pr_details(self, repo: Row, pr: Row) -> dict:
        """What a single-PR answer adds: files, commit count, mergeability."""
        bare, base = self.diff_base(repo, pr)
        files = bare.diff_files(base, pr["head_sha"])
        commits = bare.count_commits(None if base == EMPTY_TREE else base, pr["head_sha"])
        return {"files": files, "commits": commits, "mergeable": self.mergeable(repo, pr)}

    def pr_files(self, owner: str, name: str, number: int) -> list[dict]:
        repo = self.repo_row(owner, name)
        pr = self.pr_row(repo, number)
        bare, base = self.diff_base(repo, pr)
        return bare.diff_files(base, pr["head_sha"])

    def pr_commits(self, owner: str, name: str, number: int) -> list[dict]:
        repo = self.repo_row(owner, name)
        pr = self.pr_row(repo, number)
        bare, base = self.diff_base(repo, pr)
        return bare.commits_between(None if base == EMPTY_TREE else base, pr["head_sha"])

    def add_review(self, owner: str, name: str, number: int, user: str, state: str = "APPROVE",
                   body: str = "", commit_id: str | None = None) -> Row:
        """Submit a review; as on GitHub an author cannot approve their own PR."""
        repo = self.repo_row(owner, name)
        pr = self.pr_row(repo, number)
        reviewer = self.ensure_user(user)
        review_state = REVIEW_STATES.get((state or "PENDING").upper())
        if review_state is None:
            raise ValidationFailed("PullRequestReview", "event", "invalid")
        if reviewer["id"] == pr["user_id"] and review_state == "APPROVED":
            raise Unprocessable("Can not approve your own pull request")
        if reviewer["id"] == pr["user_id"] and review_state == "CHANGES_REQUESTED":
            raise Unprocessable("Can not request changes on your own pull request")
        review_id = self.db.insert("reviews", {
            "pull_id": pr["id"], "user_id": reviewer["id"], "state": review_state, "body": body or "",
            "commit_id": commit_id or pr["head_sha"], "submitted_at": self.db.now_iso()})
        self.touch_issue(pr["issue_id"])
        return self.db.one("SELECT * FROM reviews WHERE id=?", review_id)

    def reviews_of(self, pull_id: int) -> list[Row]:
        return self.db.all("SELECT * FROM reviews WHERE pull_id=? ORDER BY id", pull_id)


def _git_method(method: str) -> str:
    # Rebasing rewrites commits; locally a fast-forward gives the same tree
    # and refuses (like GitHub's "cannot be rebased") when history diverged.
    return "fast-forward" if method == "rebase" else method
