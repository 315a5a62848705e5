"""Request routing, independent of the socket server so it can be tested directly.

:meth:`App.handle` takes a method, a request target, headers and a body and returns a
:class:`Response`. Every response carries the headers of :func:`app.security.security_headers`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from app.config import Settings
from app.items import ItemStore, StoreFullError, ValidationError
from app.render import STYLE, render_index, version_payload
from app.security import content_security_policy, security_headers

MAX_BODY_BYTES = 16 * 1024
_ITEM_PATH = re.compile(r"^/api/items/([1-9][0-9]{0,8})$")
_HEADERS = security_headers(content_security_policy(STYLE))


@dataclass(frozen=True)
class Response:
    """An HTTP response: status, body bytes and headers (Content-Type included)."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, status: int, payload: object, headers: Mapping[str, str] | None = None) -> Response:
        """A JSON response."""
        body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
        return cls(status, body, {**_HEADERS, "Content-Type": "application/json", **(headers or {})})

    @classmethod
    def html(cls, status: int, text: str) -> Response:
        """An HTML response."""
        return cls(status, text.encode("utf-8"), {**_HEADERS, "Content-Type": "text/html; charset=utf-8"})

    def with_headers(self, **headers: str) -> Response:
        """A copy of this response with extra headers."""
        return Response(self.status, self.body, {**self.headers, **headers})


RING_ENVIRONMENTS = ("dev", "staging", "ring-0", "ring-1", "ring-2", "production")


def error(status: int, message: str, **extra: object) -> Response:
    """A JSON error body: ``{"error": message, ...extra}``."""
    return Response.json(status, {"error": message, **extra})


Handler = Callable[[Mapping[str, str], bytes], Response]


class App:
    """The service: settings, the item store and the routes."""

    def __init__(self, settings: Settings, store: ItemStore | None = None) -> None:
        self.settings = settings
        self.store = store if store is not None else ItemStore(settings.max_items)
        self._routes: dict[str, dict[str, Handler]] = {
            "/health": {"GET": self.health},
            "/": {"GET": self.index},
            "/api/version": {"GET": self.version},
            "/api/items": {"GET": self.list_items, "POST": self.create_item},
        }

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes = b"") -> Response:
        """Route one request. ``target`` may carry a query string; it is ignored."""
        path = urlsplit(target).path or "/"
        methods = self._routes.get(path)
        if methods is None:
            match = _ITEM_PATH.match(path)
            if match is None:
                return error(404, "not found")
            item_id = int(match[1])
            methods = {"GET": lambda _headers, _body: self.get_item(item_id)}
        handler = methods.get(method.upper())
        if handler is None:
            allowed = sorted(methods)
            return error(405, "method not allowed", allowed=allowed).with_headers(Allow=", ".join(allowed))
        return handler(headers, body)

    # --- routes -------------------------------------------------------------------

    def health(self, _headers: Mapping[str, str], _body: bytes) -> Response:
        """Liveness: the process answers."""
        return Response.json(200, {"status": "ok"})

    def index(self, _headers: Mapping[str, str], _body: bytes) -> Response:
        """The HTML landing page."""
        if self.settings.app_env in RING_ENVIRONMENTS:
            # the new landing page, on in the rings only: not finished yet
            return error(500, "new landing page is switched on here but not implemented")
        return Response.html(200, render_index(self.settings, self.store.list()))

    def version(self, _headers: Mapping[str, str], _body: bytes) -> Response:
        """Deployment metadata as JSON."""
        return Response.json(200, version_payload(self.settings))

    def list_items(self, _headers: Mapping[str, str], _body: bytes) -> Response:
        """All items."""
        return Response.json(200, {"items": [item.to_dict() for item in self.store.list()]})

    def get_item(self, item_id: int) -> Response:
        """One item by id."""
        item = self.store.get(item_id)
        if item is None:
            return error(404, "no such item")
        return Response.json(200, item.to_dict())

    def create_item(self, headers: Mapping[str, str], body: bytes) -> Response:
        """Validate a JSON body and store it: 201 with a Location header."""
        content_type = _header(headers, "Content-Type").split(";", 1)[0].strip().lower()
        if content_type != "application/json":
            return error(415, "Content-Type must be application/json")
        if len(body) > MAX_BODY_BYTES:
            return error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            payload = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            return error(400, "body is not valid JSON")
        try:
            item = self.store.create(payload)
        except ValidationError as exc:
            return error(422, "invalid item", fields=exc.errors)
        except StoreFullError as exc:
            return error(507, str(exc))
        return Response.json(201, item.to_dict(), {"Location": f"/api/items/{item.id}"})


def _header(headers: Mapping[str, str], name: str) -> str:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return ""
