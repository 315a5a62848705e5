"""The request pipeline every API call goes through.

latency -> faults -> credentials -> primary rate limit -> route ->
conditional request (ETag/304) -> rate-limit headers -> request log.
"""

from __future__ import annotations

import hashlib
import http
import sys
import time
import traceback
import uuid

from .auth import Identity, identify
from .context import Context, Request, Response
from .errors import DOCS_URL, GitHubError, Unauthorized
from .faults import Fault
from .ratelimit import RateState
from .routes import dispatch
from .store import LocalGitHub

RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
SAFE_METHODS = ("GET", "HEAD")
RATE_LIMIT_PATH = "/rate_limit"


def handle_api(store: LocalGitHub, request: Request) -> Response:
    request_id = uuid.uuid4().hex[:20].upper()
    latency = store.latency_for(request.raw_path)
    if latency:
        time.sleep(latency / 1000)
    identity = identify(store, request.headers.get("Authorization"))
    bucket, anonymous = identity.rate_bucket(request.client)
    limit = store.rate_limit(anonymous)
    fault = store.take_fault(request.raw_path)
    if fault is not None:
        response = _fault_response(fault, store.rate_state(bucket, limit), identity, request, request_id)
    else:
        response = _answer(store, request, identity, bucket, limit, request_id)
    _common_headers(response, request_id)
    store.log_request(request.method, request.prefix + request.raw_path, request.query_string, response.status,
                      response.counted, identity.login, identity.token_hash)
    return response


def _answer(store: LocalGitHub, request: Request, identity: Identity, bucket: str, limit: int,
            request_id: str) -> Response:
    state = store.rate_state(bucket, limit)
    # GET /rate_limit stays answerable (and free) when the limit is exhausted, as on GitHub.
    if identity.error is None and state.exhausted and request.raw_path != RATE_LIMIT_PATH:
        response = _error(GitHubError(_exceeded_message(identity, request, request_id), status=403))
        response.body["documentation_url"] = RATE_LIMIT_DOCS
        response.counted = False
    else:
        response = _route(store, request, identity)
        if _not_modified(request, response):
            response = Response(304, None, {"ETag": response.headers["ETag"]}, counted=False)
    state = store.rate_state(bucket, limit, consume=response.counted)
    if request.raw_path == RATE_LIMIT_PATH and response.status == 200:
        response.body = _rate_limit_body(state)
    response.headers.update(state.headers())
    return response


def _route(store: LocalGitHub, request: Request, identity: Identity) -> Response:
    try:
        if identity.error is not None:
            raise identity.error
        if identity.kind == "anonymous" and request.method not in SAFE_METHODS:
            raise Unauthorized("Requires authentication")
        response = dispatch(Context(store, request, identity))
    except GitHubError as error:
        response = _error(error)
    except Exception:  # noqa: BLE001 - a bug must not kill the connection; GitHub answers 500
        traceback.print_exc(file=sys.stderr)
        response = _error(GitHubError("Server Error", status=500))
    if request.method == "GET" and response.status == 200:
        response.headers["ETag"] = f'W/"{hashlib.sha256(response.payload()).hexdigest()}"'
    return response


def _not_modified(request: Request, response: Response) -> bool:
    etag = response.headers.get("ETag")
    header = request.headers.get("If-None-Match")
    if not etag or not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag.removeprefix("W/") in candidates


def _error(error: GitHubError) -> Response:
    return Response(error.status, error.body(), dict(error.headers))


def _exceeded_message(identity: Identity, request: Request, request_id: str) -> str:
    support = f"If you reach out to GitHub Support for help, please include the request ID {request_id}."
    if identity.kind == "installation":
        return f"API rate limit exceeded for installation ID {identity.installation_id}. {support}"
    if identity.user is not None:
        return f"API rate limit exceeded for user ID {identity.user['id']}. {support}"
    return (f"API rate limit exceeded for {request.client}. (But here's the good news: Authenticated requests "
            f"get a higher rate limit. Check out the documentation for more details.) {support}")


def _fault_response(fault: Fault, state: RateState, identity: Identity, request: Request,
                    request_id: str) -> Response:
    if fault.kind == "server_errors":
        body = {"message": http.HTTPStatus(fault.status).phrase, "documentation_url": DOCS_URL}
        return Response(fault.status, body, state.headers(), counted=False)
    if fault.kind == "secondary_rate_limits":
        message = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                   f"If you reach out to GitHub Support for help, please include the request ID {request_id}.")
        headers = {**state.headers(), "Retry-After": str(fault.delay)}
        body = {"message": message, "documentation_url": RATE_LIMIT_DOCS + "#about-secondary-rate-limits"}
        return Response(fault.status, body, headers, counted=False)
    exhausted = RateState(state.limit, state.limit, int(time.time()) + fault.delay)
    body = {"message": _exceeded_message(identity, request, request_id), "documentation_url": RATE_LIMIT_DOCS}
    return Response(fault.status, body, exhausted.headers(), counted=False)


def _rate_limit_body(state: RateState) -> dict:
    core = {"limit": state.limit, "used": state.used, "remaining": state.remaining, "reset": state.reset}
    return {"resources": {"core": core}, "rate": core}


def _common_headers(response: Response, request_id: str) -> None:
    response.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
    response.headers.setdefault("X-GitHub-Api-Version-Selected", "2022-11-28")
    response.headers.setdefault("X-GitHub-Request-Id", request_id)
    response.headers.setdefault("Vary", "Accept, Authorization, Cookie, X-GitHub-OTP")
