"""Request, response and the per-request context handed to route handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email.message import Message
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .auth import Identity
from .base import permission_at_least
from .db import Row
from .errors import Forbidden, GitHubError, NotFound, Unauthorized
from .serializers import View
from .store import LocalGitHub

API_PREFIX = "/api/v3"


@dataclass
class Request:
    method: str
    raw_path: str  # still percent-encoded, without the API prefix
    prefix: str  # "" or "/api/v3": links echo the prefix the client used
    query: list[tuple[str, str]]
    query_string: str  # as received, for the request log
    headers: Message
    body: bytes
    client: str

    @classmethod
    def parse(cls, method: str, target: str, headers: Message, body: bytes, client: str) -> Request:
        parts = urlsplit(target)
        path = parts.path or "/"
        prefix = ""
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            prefix, path = API_PREFIX, path[len(API_PREFIX):] or "/"
        if len(path) > 1:
            path = path.rstrip("/")
        query = parse_qsl(parts.query, keep_blank_values=True)
        return cls(method, path, prefix, query, parts.query, headers, body, client)

    @property
    def host(self) -> str:
        return self.headers.get("Host") or "127.0.0.1"

    @property
    def web_base(self) -> str:
        return f"http://{self.host}"

    @property
    def api_base(self) -> str:
        return f"http://{self.host}{self.prefix}"

    def arg(self, name: str, default: str | None = None) -> str | None:
        return next((value for key, value in self.query if key == name), default)

    def json(self) -> Any:
        if not self.body.strip():
            return {}
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError):
            raise GitHubError("Problems parsing JSON", status=400) from None


@dataclass
class Response:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    counted: bool = True  # False for endpoints GitHub does not charge (GET /rate_limit)

    def payload(self) -> bytes:
        if self.body is None:
            return b""
        return json.dumps(self.body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class Context:
    """What a route handler needs: the store, the caller, links and lookups."""

    def __init__(self, store: LocalGitHub, request: Request, identity: Identity):
        self.store = store
        self.request = request
        self.identity = identity
        self.view = View(store, request.api_base, request.web_base, identity)

    def body(self) -> dict[str, Any]:
        data = self.request.json()
        if not isinstance(data, dict):
            raise GitHubError("Problems parsing JSON", status=400)
        return data

    def actor(self) -> Row:
        """The user acting (for bots: the app's bot user); anonymous callers get 401."""
        if self.identity.user is None:
            raise Unauthorized("Requires authentication")
        return self.identity.user

    def repo(self, owner: str, name: str, need: str = "read") -> Row:
        """The repo if the caller may see it (404 otherwise, as GitHub hides
        private repos) and holds at least `need` permission (403 otherwise)."""
        repo = self.store.repo_row(owner, name)
        have = self.permission(repo)
        if have == "none":
            raise NotFound()
        if not permission_at_least(have, need):
            raise Forbidden(self._denied_message(need))
        return repo

    def permission(self, repo: Row) -> str:
        if self.identity.kind == "app":  # an app JWT only reaches the /app endpoints
            raise Forbidden("Resource not accessible by integration")
        return self.view.role(repo)

    def _denied_message(self, need: str) -> str:
        if self.identity.kind == "installation":
            return "Resource not accessible by integration"
        return "Must have push access to repository" if need != "admin" else "Must have admin rights to Repository."
