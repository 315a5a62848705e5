"""GitHub Apps: registration, installations, JWT checks and installation tokens."""

from __future__ import annotations

import time

import jwt

from .base import StoreBase
from .db import Row, iso
from .errors import NotFound, Unauthorized
from .tokens import hash_token, new_token

TOKEN_LIFETIME = 3600
# GitHub rejects app JWTs valid for longer than ten minutes.
MAX_JWT_LIFETIME = 600
INSTALLATION_PERMISSIONS = {
    "checks": "write", "contents": "write", "deployments": "write", "issues": "write",
    "metadata": "read", "pull_requests": "write", "statuses": "write",
}


class AppsMixin(StoreBase):
    def create_app(self, app_id: int, public_key_pem: str | bytes, slug: str | None = None,
                   name: str | None = None, owner: str | None = None) -> dict:
        """Register an app; its actions are attributed to the bot user `<slug>[bot]`."""
        app_id = int(app_id)
        slug = slug or f"app-{app_id}"
        pem = public_key_pem.decode() if isinstance(public_key_pem, bytes) else public_key_pem
        bot = self.ensure_user(f"{slug}[bot]", "Bot")
        owner_row = self.ensure_user(owner) if owner else None
        with self.db.tx() as c:
            c.execute("INSERT OR REPLACE INTO apps(id, slug, name, owner_id, bot_user_id, public_key, created_at) "
                      "VALUES(?, ?, ?, ?, ?, ?, ?)",
                      (app_id, slug, name or slug, owner_row and owner_row["id"], bot["id"], pem, self.db.now_iso()))
        return {"id": app_id, "slug": slug, "name": name or slug, "bot": bot["login"]}

    def app_row(self, app_id: int) -> Row:
        row = self.db.one("SELECT * FROM apps WHERE id=?", int(app_id))
        if row is None:
            raise NotFound("Integration not found")
        return row

    def create_installation(self, app_id: int, owner: str, name: str) -> int:
        """Install the app on owner/name (one installation per account, as on GitHub)."""
        app = self.app_row(app_id)
        repo = self.repo_row(owner, name)
        with self.db.tx() as c:
            row = c.execute("SELECT id FROM installations WHERE app_id=? AND account_id=?",
                            (app["id"], repo["owner_id"])).fetchone()
            installation_id = row["id"] if row else self.db.insert("installations", {
                "app_id": app["id"], "account_id": repo["owner_id"], "created_at": self.db.now_iso()})
            c.execute("INSERT OR IGNORE INTO installation_repos(installation_id, repo_id) VALUES(?, ?)",
                      (installation_id, repo["id"]))
        return installation_id

    def installation_row(self, installation_id: int) -> Row:
        row = self.db.one("SELECT * FROM installations WHERE id=?", int(installation_id))
        if row is None:
            raise NotFound()
        return row

    def installation_for_repo(self, app_id: int, repo: Row) -> Row:
        row = self.db.one("SELECT i.* FROM installations i JOIN installation_repos ir ON ir.installation_id = i.id "
                          "WHERE i.app_id=? AND ir.repo_id=?", int(app_id), repo["id"])
        if row is None:
            raise NotFound()
        return row

    def installation_repo_ids(self, installation_id: int) -> list[int]:
        rows = self.db.all("SELECT repo_id FROM installation_repos WHERE installation_id=? ORDER BY repo_id",
                           installation_id)
        return [row["repo_id"] for row in rows]

    def issue_installation_token(self, app_id: int, installation_id: int) -> dict:
        """A `ghs_` token for the installation, valid for one hour."""
        installation = self.installation_row(installation_id)
        if installation["app_id"] != int(app_id):
            raise NotFound()
        app = self.app_row(app_id)
        token = new_token("ghs_")
        expires = self.db.clock() + TOKEN_LIFETIME
        with self.db.tx() as c:
            c.execute("INSERT INTO tokens(hash, user_id, kind, installation_id, expires_at) "
                      "VALUES(?, ?, 'installation', ?, ?)",
                      (hash_token(token), app["bot_user_id"], installation["id"], expires))
        return {"token": token, "expires_at": iso(expires), "permissions": dict(INSTALLATION_PERMISSIONS),
                "repository_selection": "selected"}

    def lookup_token(self, token: str) -> Row | None:
        """The token's row (kind pat/installation) if it is known and unexpired."""
        row = self.db.one("SELECT * FROM tokens WHERE hash=?", hash_token(token))
        if row is None or (row["expires_at"] is not None and row["expires_at"] <= self.db.clock()):
            return None
        return row

    def verify_app_jwt(self, token: str) -> Row:
        """The app that signed this JWT (RS256, iss = app id), or 401 like GitHub."""
        try:
            unverified = jwt.decode(token, options={"verify_signature": False})
            app = self.app_row(int(unverified.get("iss")))
        except (jwt.InvalidTokenError, TypeError, ValueError, NotFound):
            raise Unauthorized("A JSON web token could not be decoded") from None
        try:
            claims = jwt.decode(token, app["public_key"], algorithms=["RS256"],
                                options={"require": ["exp", "iat", "iss"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("'Expiration time' claim ('exp') must be a numeric value representing the "
                               "future time at which the assertion expires") from None
        except jwt.InvalidTokenError:
            raise Unauthorized("A JSON web token could not be decoded") from None
        if claims["exp"] - time.time() > MAX_JWT_LIFETIME + 60:
            raise Unauthorized("'Expiration time' claim ('exp') is too far in the future")
        return app

    def create_token_for_installation(self, installation_id: int) -> str:
        """Python shortcut: an installation token without the JWT dance."""
        installation = self.installation_row(installation_id)
        return self.issue_installation_token(installation["app_id"], installation_id)["token"]

