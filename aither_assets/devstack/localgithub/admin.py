"""Admin endpoints under `/_aither/` (not GitHub's API).

They need no token but answer only to loopback clients, are neither rate
limited nor logged, and let tests arm faults and read the request log of a
server running in another process.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from .context import Request, Response
from .errors import DOCS_URL
from .store import LocalGitHub

FAULT_ARGS = ("server_errors", "secondary_rate_limits", "primary_rate_limit", "latency_ms", "status",
              "retry_after", "reset_in", "path", "path_regex")


def is_loopback(client: str) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)
    return (mapped or address).is_loopback


def handle_admin(store: LocalGitHub, request: Request) -> Response:
    if not is_loopback(request.client):
        return _fail(404, "Not Found")
    handler = _ROUTES.get((request.method, request.raw_path))
    if handler is None:
        return _fail(404, "Not Found")
    try:
        return handler(store, request)
    except (ValueError, TypeError) as error:
        return _fail(422, str(error))


def _fail(status: int, message: str) -> Response:
    return Response(status, {"message": message, "documentation_url": DOCS_URL})


def _json_object(request: Request) -> dict[str, Any]:
    data = request.json()
    if not isinstance(data, dict):
        raise TypeError("expected a JSON object")
    return data


def set_faults(store: LocalGitHub, request: Request) -> Response:
    data = _json_object(request)
    unknown = set(data) - set(FAULT_ARGS)
    if unknown:
        raise ValueError(f"unknown fault settings: {sorted(unknown)}")
    return Response(200, store.set_faults(**data))


def get_faults(store: LocalGitHub, request: Request) -> Response:
    return Response(200, store.faults())


def clear_faults(store: LocalGitHub, request: Request) -> Response:
    store.clear_faults()
    return Response(204)


def get_requests(store: LocalGitHub, request: Request) -> Response:
    since = request.arg("since_id", "0")
    rows = store.request_log(login=request.arg("login"), since_id=int(since) if since.isdigit() else 0)
    return Response(200, {"count": len(rows), "requests": rows})


def clear_requests(store: LocalGitHub, request: Request) -> Response:
    store.clear_request_log()
    return Response(204)


def set_rate_limit(store: LocalGitHub, request: Request) -> Response:
    data = _json_object(request)
    store.set_rate_limit(limit=data.get("limit"), anonymous=data.get("anonymous"))
    if data.get("reset"):
        store.reset_rate_limits()
    return Response(200, {"limit": store.rate_limit(), "anonymous": store.rate_limit(anonymous=True)})


_ROUTES = {
    ("POST", "/_aither/faults"): set_faults,
    ("GET", "/_aither/faults"): get_faults,
    ("DELETE", "/_aither/faults"): clear_faults,
    ("GET", "/_aither/requests"): get_requests,
    ("DELETE", "/_aither/requests"): clear_requests,
    ("POST", "/_aither/rate_limit"): set_rate_limit,
}
