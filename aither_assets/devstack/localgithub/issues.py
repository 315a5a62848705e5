"""Issues (and the issue side of PRs): labels, comments and events.

Label changes on a PR queue its `labeled`/`unlabeled` webhook events.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .base import StoreBase
from .db import Row
from .errors import NotFound, ValidationFailed

DEFAULT_LABEL_COLOR = "ededed"


class IssuesMixin(StoreBase):
    # -- issue rows ---------------------------------------------------------------

    def issue_row(self, repo: Row, number: int) -> Row:
        row = self.db.one("SELECT i.*, p.id AS pull_id FROM issues i LEFT JOIN pulls p ON p.issue_id = i.id "
                          "WHERE i.repo_id=? AND i.number=?", repo["id"], int(number))
        if row is None:
            raise NotFound()
        return row

    def touch_issue(self, issue_id: int) -> None:
        """Bump updated_at: every change to an issue or PR does, as on GitHub."""
        stamp, key = self.db.tick()
        with self.db.tx() as c:
            c.execute("UPDATE issues SET updated_at=?, updated_key=? WHERE id=?", (stamp, key, issue_id))

    def next_number(self, repo_id: int) -> int:
        """PRs and issues share one number sequence per repository."""
        return self.db.scalar("SELECT COALESCE(MAX(number), 0) + 1 FROM issues WHERE repo_id=?", repo_id)

    def insert_issue(self, repo: Row, title: str, body: str | None, user: Row) -> Row:
        if not isinstance(title, str) or not title.strip():
            raise ValidationFailed("Issue", "title", "missing_field")
        stamp, key = self.db.tick()
        with self.db.tx():
            number = self.next_number(repo["id"])
            issue_id = self.db.insert("issues", {
                "repo_id": repo["id"], "number": number, "title": title, "body": body, "user_id": user["id"],
                "state": "open", "created_at": stamp, "created_key": key, "updated_at": stamp,
                "updated_key": key, "closed_at": None})
        return {"id": issue_id, "number": number}

    def open_issue(self, owner: str, name: str, title: str, body: str = "", user: str | None = None) -> int:
        repo = self.repo_row(owner, name)
        author = self.ensure_user(user or owner)
        return self.insert_issue(repo, title, body, author)["number"]

    def add_event(self, issue_id: int, event: str, actor: Row, **data) -> None:
        self.db.insert("issue_events", {"issue_id": issue_id, "event": event, "actor_id": actor["id"],
                                        "created_at": self.db.now_iso(), "data": json.dumps(data)})

    def issue_events(self, issue_id: int) -> list[Row]:
        rows = self.db.all("SELECT * FROM issue_events WHERE issue_id=? ORDER BY id", issue_id)
        for row in rows:
            row["data"] = json.loads(row["data"])
        return rows

    # -- labels -------------------------------------------------------------------

    def ensure_label(self, repo: Row, name: str, color: str | None = None) -> Row:
        if not isinstance(name, str) or not name.strip():
            raise ValidationFailed("Label", "name", "missing_field")
        with self.db.tx() as c:
            row = c.execute("SELECT * FROM labels WHERE repo_id=? AND name=?", (repo["id"], name)).fetchone()
            if row is None:
                self.db.insert("labels", {"repo_id": repo["id"], "name": name,
                                          "color": color or DEFAULT_LABEL_COLOR, "description": None})
                row = c.execute("SELECT * FROM labels WHERE repo_id=? AND name=?", (repo["id"], name)).fetchone()
        return row

    def labels_of(self, issue_id: int) -> list[Row]:
        return self.db.all("SELECT l.* FROM labels l JOIN issue_labels il ON il.label_id = l.id "
                           "WHERE il.issue_id=? ORDER BY l.name", issue_id)

    def add_labels(self, owner: str, name: str, number: int, labels: Iterable[str] | str,
                   actor: str | None = None) -> list[Row]:
        """Add labels (created in the repo on first use); returns the issue's labels."""
        repo = self.repo_row(owner, name)
        issue = self.issue_row(repo, number)
        who = self.ensure_user(actor or owner)
        names = [labels] if isinstance(labels, str) else list(labels)
        current = {row["id"] for row in self.labels_of(issue["id"])}
        for label_name in names:
            label = self.ensure_label(repo, label_name)
            if label["id"] in current:
                continue
            with self.db.tx() as c:
                c.execute("INSERT INTO issue_labels(issue_id, label_id) VALUES(?, ?)", (issue["id"], label["id"]))
                self.add_event(issue["id"], "labeled", who, label={"name": label["name"], "color": label["color"]})
                self.touch_issue(issue["id"])
                if issue["pull_id"]:
                    self.queue_pr_event(repo, issue["number"], "labeled", who, label=label)
            current.add(label["id"])
        return self.labels_of(issue["id"])

    def remove_label(self, owner: str, name: str, number: int, label: str, actor: str | None = None) -> list[Row]:
        repo = self.repo_row(owner, name)
        issue = self.issue_row(repo, number)
        who = self.ensure_user(actor or owner)
        match = next((row for row in self.labels_of(issue["id"]) if row["name"].lower() == label.lower()), None)
        if match is None:
            raise NotFound("Label does not exist")
        with self.db.tx() as c:
            c.execute("DELETE FROM issue_labels WHERE issue_id=? AND label_id=?", (issue["id"], match["id"]))
            self.add_event(issue["id"], "unlabeled", who, label={"name": match["name"], "color": match["color"]})
            self.touch_issue(issue["id"])
            if issue["pull_id"]:
                self.queue_pr_event(repo, issue["number"], "unlabeled", who, label=match)
        return self.labels_of(issue["id"])

    def set_labels(self, owner: str, name: str, number: int, labels: Iterable[str],
                   actor: str | None = None) -> list[Row]:
        """Replace all labels (PUT semantics), emitting labeled/unlabeled events."""
        repo = self.repo_row(owner, name)
        issue = self.issue_row(repo, number)
        wanted = {label.lower() for label in labels}
        for row in self.labels_of(issue["id"]):
            if row["name"].lower() not in wanted:
                self.remove_label(owner, name, number, row["name"], actor)
        return self.add_labels(owner, name, number, list(labels), actor)

    # -- comments -------------------------------------------------------------------

    def create_comment(self, owner: str, name: str, number: int, body: str, user: str | None = None) -> Row:
        repo = self.repo_row(owner, name)
        issue = self.issue_row(repo, number)
        author = self.ensure_user(user or owner)
        if not isinstance(body, str) or not body:
            raise ValidationFailed("IssueComment", "body", "missing_field")
        now = self.db.now_iso()
        with self.db.tx():
            comment_id = self.db.insert("comments", {"issue_id": issue["id"], "user_id": author["id"], "body": body,
                                                     "created_at": now, "updated_at": now})
            self.touch_issue(issue["id"])
            self.queue_comment_event(repo, comment_id, "created", author)  # type: ignore[attr-defined]
        return self.comment_row(repo, comment_id)

    def comment_row(self, repo: Row, comment_id: int) -> Row:
        row = self.db.one("SELECT c.*, i.number AS issue_number FROM comments c JOIN issues i ON i.id = c.issue_id "
                          "WHERE c.id=? AND i.repo_id=?", int(comment_id), repo["id"])
        if row is None:
            raise NotFound()
        return row

    def edit_comment(self, owner: str, name: str, comment_id: int, body: str) -> Row:
        repo = self.repo_row(owner, name)
        comment = self.comment_row(repo, comment_id)
        if not isinstance(body, str) or not body:
            raise ValidationFailed("IssueComment", "body", "missing_field")
        with self.db.tx():
            self.db.update("comments", comment["id"], {"body": body, "updated_at": self.db.now_iso()})
            self.queue_comment_event(repo, comment["id"], "edited", self.user_by_id(comment["user_id"]),  # type: ignore[attr-defined]
                                     changes={"body": {"from": comment["body"]}})
        return self.comment_row(repo, comment_id)

    def delete_comment(self, owner: str, name: str, comment_id: int) -> None:
        repo = self.repo_row(owner, name)
        comment = self.comment_row(repo, comment_id)
        with self.db.tx() as c:
            c.execute("DELETE FROM comments WHERE id=?", (comment["id"],))

    def list_repo_comments(self, owner: str, name: str, since: str | None = None,
                           direction: str = "asc") -> list[Row]:
        """Every issue and PR comment of the repository, by last update (``GET .../issues/comments``)."""
        repo = self.repo_row(owner, name)
        order = "DESC" if direction == "desc" else "ASC"
        return self.db.all("SELECT c.*, i.number AS issue_number FROM comments c JOIN issues i ON i.id = c.issue_id "
                           f"WHERE i.repo_id=? AND c.updated_at >= ? ORDER BY c.updated_at {order}, c.id {order}",
                           repo["id"], since or "")

    def list_comments(self, owner: str, name: str, number: int, since: str | None = None) -> list[Row]:
        repo = self.repo_row(owner, name)
        issue = self.issue_row(repo, number)
        return self.db.all("SELECT c.*, ? AS issue_number FROM comments c WHERE issue_id=? AND updated_at >= ? "
                           "ORDER BY id", issue["number"], issue["id"], since or "")
