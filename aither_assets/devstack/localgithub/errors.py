"""Exceptions shaped like GitHub's REST error responses.

The store raises them for both the Python API and the HTTP server, so a
caller of `LocalGitHub` sees the same status and message that an HTTP client
would receive.
"""

from __future__ import annotations

from typing import Any

DOCS_URL = "https://docs.github.com/rest"


class GitHubError(Exception):
    """An error that maps onto one GitHub REST error response."""

    status = 400

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        errors: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.errors is not None:
            body["errors"] = self.errors
        body["documentation_url"] = DOCS_URL
        body["status"] = str(self.status)
        return body


class Unauthorized(GitHubError):
    status = 401

    def __init__(self, message: str = "Bad credentials"):
        super().__init__(message)


class Forbidden(GitHubError):
    status = 403


class NotFound(GitHubError):
    status = 404

    def __init__(self, message: str = "Not Found"):
        super().__init__(message)


class Conflict(GitHubError):
    status = 409


class ValidationFailed(GitHubError):
    status = 422

    def __init__(self, resource: str, field: str, code: str = "invalid", message: str | None = None):
        error: dict[str, Any] = {"resource": resource, "field": field, "code": code}
        if message:
            error["message"] = message
        super().__init__("Validation Failed", errors=[error])


class Unprocessable(GitHubError):
    """422 with free-text errors, as GitHub answers e.g. a self-approval."""

    status = 422

    def __init__(self, *errors: str):
        super().__init__("Unprocessable Entity", errors=list(errors))


def require_choice(value: Any, choices: tuple[str, ...], resource: str, field: str) -> str:
    if value not in choices:
        raise ValidationFailed(resource, field, "invalid", f"{field} is not included in the list")
    return value
