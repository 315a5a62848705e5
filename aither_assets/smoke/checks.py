"""HTTP smoke checks against a preview environment (the ``smoke_report`` asset's engine).

:func:`run_smoke` first waits until the service answers at all (any HTTP response, retried
until the deadline), then runs each :class:`~aither_assets.config.pipeline.SmokeCheck`
once and records the status, the latency and whether the body holds the expected text.
A failed check says why: wrong status, missing text, too slow, or a connection error.

The checks come from the PR's own ``.aither/pipeline.yaml`` and the responses from PR
code, so: plain ``urllib`` with no proxy, redirects followed only on the same scheme,
host and port (an off-host ``Location`` is reported, not fetched), bodies read up to
:data:`MAX_BODY_BYTES`, and every PR-controlled string escaped in the Markdown table.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlsplit

from aither_assets.config.pipeline import SmokeCheck
from aither_assets.markdown import md_escape, md_table

MAX_BODY_BYTES = 1024 * 1024
MAX_REDIRECTS = 5
USER_AGENT = "aither-smoke/1"


@dataclass(frozen=True)
class SmokeResult:
    path: str
    expected_status: int
    status: int | None  # None: no HTTP response (connection error)
    latency_ms: float | None  # None: no HTTP response
    body_ok: bool | None  # None: no response to look at; True when no text was expected
    passed: bool
    reason: str | None  # why it failed ("; "-joined when several), None when it passed
    url: str = ""
    expected_text: str | None = None
    max_latency_ms: float | None = None


@dataclass(frozen=True)
class SmokeReport:
    passed: bool
    results: list[SmokeResult]
    started_at: str  # ISO 8601, UTC
    duration: float  # seconds, waiting included
    base_url: str = ""
    reachable: bool = True  # whether the service answered before the deadline
    wait_seconds: float = 0.0  # time spent waiting for the first answer
    counts: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_markdown(self) -> str:
        """A summary line and a table; PR-controlled text escaped with :func:`md_escape`."""
        passed = sum(r.passed for r in self.results)
        head = (
            f"**Smoke {'passed' if self.passed else 'FAILED'}**: {passed}/{len(self.results)} checks passed "
            f"in {self.duration:.2f}s against {md_escape(self.base_url)}"
        )
        if not self.reachable:
            head += f" (the service did not answer within {self.wait_seconds:.1f}s)"
        return head + "\n\n" + smoke_table(self.results)


def _cell(value: object) -> str:
    return "—" if value is None else md_escape(str(value))


def smoke_table(results: Sequence[SmokeResult]) -> str:
    """Markdown table of results; a missing number shows as ``—``, never as a default."""
    rows = [
        [
            md_escape(r.path),
            str(r.expected_status),
            _cell(r.status),
            _cell(None if r.latency_ms is None else f"{r.latency_ms:.1f}"),
            _cell(None if r.body_ok is None else ("yes" if r.body_ok else "no")),
            "pass" if r.passed else "**FAIL**",
            _cell(r.reason),
        ]
        for r in results
    ]
    return md_table(["Path", "Expected", "Status", "Latency (ms)", "Body", "Result", "Reason"], rows)


# --------------------------------------------------------------------------- HTTP


class _OffHostRedirect(Exception):
    def __init__(self, status: int, location: str) -> None:
        super().__init__(location)
        self.status, self.location = status, location


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), port


class _SameHostRedirects(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if _origin(newurl) != _origin(req.full_url):
            fp.close()
            raise _OffHostRedirect(code, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


#: No proxies (a preview on 127.0.0.1 must not go through $HTTP_PROXY), same-host redirects only.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _SameHostRedirects())


@dataclass
class _Answer:
    status: int | None
    body: bytes
    latency_ms: float | None
    error: str | None  # connection-level failure, or a note such as an off-host redirect


def _describe(exc: BaseException) -> str:
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        exc = exc.reason if isinstance(exc.reason, BaseException) else exc
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _fetch(url: str, timeout: float) -> _Answer:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "*/*"})
    started = time.perf_counter()
    try:
        response = _OPENER.open(request, timeout=timeout)
    except _OffHostRedirect as exc:
        latency = (time.perf_counter() - started) * 1000
        return _Answer(exc.status, b"", latency, f"redirect to another host not followed: {exc.location}")
    except urllib.error.HTTPError as exc:  # 4xx/5xx (and 3xx without a usable Location): still an answer
        try:
            body = exc.read(MAX_BODY_BYTES)
        except (OSError, http.client.HTTPException):
            body = b""
        finally:
            exc.close()
        return _Answer(exc.code, body, (time.perf_counter() - started) * 1000, None)
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return _Answer(None, b"", None, _describe(exc))
    try:
        with response:
            body = response.read(MAX_BODY_BYTES)
            status = response.status
    except (OSError, http.client.HTTPException) as exc:
        return _Answer(None, b"", None, f"reading the body: {_describe(exc)}")
    return _Answer(status, body, (time.perf_counter() - started) * 1000, None)


def _url(base_url: str, path: str) -> str:
    return base_url.rstrip("/") + path


def _check_base_url(base_url: str) -> None:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"base URL {base_url!r} must be http(s)://host[:port][/prefix]")
    if parts.username or parts.password:
        raise ValueError("base URL must not carry credentials")


def _judge(check: SmokeCheck, url: str, answer: _Answer) -> SmokeResult:
    common = {
        "path": check.path, "expected_status": check.status, "url": url,
        "expected_text": check.contains, "max_latency_ms": check.max_latency_ms,
    }
    if answer.status is None:
        return SmokeResult(status=None, latency_ms=None, body_ok=None, passed=False,
                           reason=f"connection error: {answer.error}", **common)
    reasons = []
    if answer.status != check.status:
        reasons.append(f"wrong status: got {answer.status}, expected {check.status}")
    if answer.error:
        reasons.append(answer.error)
    body_ok = True
    if check.contains is not None:
        body_ok = check.contains in answer.body.decode("utf-8", errors="replace")
        if not body_ok:
            cut = " (first 1 MiB)" if len(answer.body) >= MAX_BODY_BYTES else ""
            reasons.append(f"missing text: body{cut} does not contain {json.dumps(check.contains)}")
    if answer.latency_ms is not None and answer.latency_ms > check.max_latency_ms:
        reasons.append(f"too slow: {answer.latency_ms:.1f} ms > {check.max_latency_ms:g} ms")
    return SmokeResult(status=answer.status, latency_ms=round(answer.latency_ms or 0.0, 3), body_ok=body_ok,
                       passed=not reasons, reason="; ".join(reasons) or None, **common)


def run_smoke(
    base_url: str,
    checks: Sequence[SmokeCheck],
    deadline_seconds: float = 60,
    retry_interval: float = 0.5,
    *,
    request_timeout: float = 10.0,
) -> SmokeReport:
    """Wait (up to ``deadline_seconds``) until ``base_url`` answers, then run each check once.

    "Answers" means any HTTP response to the first check's path (``/`` without checks),
    whatever its status. When the deadline passes without one, every check fails with the
    last connection error. ``request_timeout`` bounds each check's request.
    """
    _check_base_url(base_url)
    started_at = datetime.now(UTC).isoformat(timespec="milliseconds")
    t0 = time.monotonic()
    deadline = t0 + deadline_seconds
    probe_url = _url(base_url, checks[0].path if checks else "/")
    while True:
        remaining = deadline - time.monotonic()
        probe = _fetch(probe_url, timeout=max(0.1, min(request_timeout, remaining)))
        if probe.status is not None:
            reachable = True
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            reachable = False
            break
        time.sleep(min(retry_interval, remaining))
    wait_seconds = round(time.monotonic() - t0, 3)

    results = []
    for check in checks:
        url = _url(base_url, check.path)
        if not reachable:
            results.append(_judge(check, url, _Answer(
                None, b"", None, f"{probe.error} (the service did not answer within {deadline_seconds:g}s)"
            )))
            continue
        results.append(_judge(check, url, _fetch(url, timeout=request_timeout)))

    counts = {"total": len(results), "passed": sum(r.passed for r in results)}
    counts["failed"] = counts["total"] - counts["passed"]
    return SmokeReport(
        passed=reachable and all(r.passed for r in results),
        results=results,
        started_at=started_at,
        duration=round(time.monotonic() - t0, 3),
        base_url=base_url,
        reachable=reachable,
        wait_seconds=wait_seconds,
        counts=counts,
    )
