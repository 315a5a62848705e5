"""What the product needs to know about GitHub objects, as plain frozen dataclasses.

Only the GitHub client builds these; everything else reads them. Fields we never
use are left out on purpose: the fewer we read, the fewer GitHub can surprise us with.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PullRequest:
    number: int
    title: str
    author: str
    state: str  # open | closed
    draft: bool
    merged: bool
    labels: tuple[str, ...]
    head_ref: str
    head_sha: str
    head_repo: str | None  # owner/name of the head repository; None when the fork was deleted
    head_clone_url: str | None
    base_ref: str
    base_sha: str
    base_repo: str
    html_url: str
    created_at: str
    updated_at: str
    closed_at: str | None = None
    merged_at: str | None = None

    @property
    def is_fork(self) -> bool:
        return self.head_repo != self.base_repo

    @property
    def partition_key(self) -> str:
        return str(self.number)


def pull_from_json(data: dict[str, Any]) -> PullRequest:
    head, base = data["head"], data["base"]
    head_repo = head.get("repo") or None
    return PullRequest(
        number=int(data["number"]),
        title=str(data.get("title") or ""),
        author=str((data.get("user") or {}).get("login") or ""),
        state=str(data["state"]),
        draft=bool(data.get("draft")),
        merged=bool(data.get("merged") or data.get("merged_at")),
        labels=tuple(str(label["name"]) for label in data.get("labels") or ()),
        head_ref=str(head["ref"]),
        head_sha=str(head["sha"]),
        head_repo=head_repo["full_name"] if head_repo else None,
        head_clone_url=head_repo.get("clone_url") if head_repo else None,
        base_ref=str(base["ref"]),
        base_sha=str(base["sha"]),
        base_repo=str(base["repo"]["full_name"]),
        html_url=str(data.get("html_url") or ""),
        created_at=str(data["created_at"]),
        updated_at=str(data["updated_at"]),
        closed_at=data.get("closed_at"),
        merged_at=data.get("merged_at"),
    )


@dataclass(frozen=True)
class PollResult:
    not_modified: bool
    etag: str | None
    pulls: list[PullRequest]


@dataclass(frozen=True)
class ChangedFile:
    filename: str
    status: str  # added | removed | modified | renamed | copied | changed | unchanged
    additions: int
    deletions: int
    previous_filename: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ChangedFile":
        return cls(
            filename=str(data["filename"]),
            status=str(data.get("status") or "modified"),
            additions=int(data.get("additions") or 0),
            deletions=int(data.get("deletions") or 0),
            previous_filename=data.get("previous_filename"),
        )


@dataclass(frozen=True)
class LabelEvent:
    event: str  # labeled | unlabeled
    label: str
    actor: str
    created_at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "LabelEvent":
        return cls(
            event=str(data["event"]),
            label=str((data.get("label") or {}).get("name") or ""),
            actor=str((data.get("actor") or {}).get("login") or ""),
            created_at=str(data.get("created_at") or ""),
        )


@dataclass(frozen=True)
class Review:
    author: str
    state: str  # APPROVED | CHANGES_REQUESTED | COMMENTED | DISMISSED | PENDING
    commit_id: str
    submitted_at: str

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Review":
        return cls(
            author=str((data.get("user") or {}).get("login") or ""),
            state=str(data.get("state") or ""),
            commit_id=str(data.get("commit_id") or ""),
            submitted_at=str(data.get("submitted_at") or ""),
        )


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    body: str
    updated_at: str
    created_at: str = ""
    issue_number: int | None = None  # the issue or PR it is on (from issue_url)
    html_url: str = ""

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Comment":
        tail = str(data.get("issue_url") or "").rstrip("/").rsplit("/", 1)[-1]
        return cls(
            id=int(data["id"]),
            author=str((data.get("user") or {}).get("login") or ""),
            body=str(data.get("body") or ""),
            updated_at=str(data.get("updated_at") or ""),
            created_at=str(data.get("created_at") or ""),
            issue_number=int(tail) if tail.isdigit() else None,
            html_url=str(data.get("html_url") or ""),
        )
