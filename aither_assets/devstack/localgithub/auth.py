"""Who is calling: a user token, an installation token, an app JWT, or nobody."""

from __future__ import annotations

from dataclasses import dataclass

from .db import Row
from .errors import GitHubError, Unauthorized
from .store import LocalGitHub
from .tokens import hash_token


@dataclass
class Identity:
    kind: str  # "anonymous" | "user" | "installation" | "app"
    user: Row | None = None  # for an installation: the app's bot user
    token_hash: str | None = None
    installation_id: int | None = None
    app: Row | None = None
    error: GitHubError | None = None  # bad credentials, reported after faults

    @property
    def login(self) -> str | None:
        if self.user is not None:
            return self.user["login"]
        return self.app["slug"] if self.app is not None else None

    def rate_bucket(self, client: str) -> tuple[str, bool]:
        """(bucket key, anonymous?): per token, or per client address for nobody."""
        if self.token_hash is not None and self.error is None:
            return f"token:{self.token_hash}", False
        return f"ip:{client}", True


def identify(store: LocalGitHub, header: str | None) -> Identity:
    """Resolve an `Authorization: token X` / `Bearer X` header."""
    if not header:
        return Identity("anonymous")
    scheme, _, credential = header.strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() not in ("token", "bearer") or not credential:
        return Identity("anonymous", error=Unauthorized())
    token_hash = hash_token(credential)
    row = store.lookup_token(credential)
    if row is not None:
        user = store.user_by_id(row["user_id"])
        kind = "installation" if row["kind"] == "installation" else "user"
        return Identity(kind, user, token_hash, row["installation_id"])
    if credential.count(".") == 2:  # looks like a JWT: an app authenticating as itself
        try:
            return Identity("app", None, token_hash, app=store.verify_app_jwt(credential))
        except GitHubError as error:
            return Identity("anonymous", token_hash=token_hash, error=error)
    return Identity("anonymous", token_hash=token_hash, error=Unauthorized())
