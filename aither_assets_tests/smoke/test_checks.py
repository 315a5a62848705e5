"""Smoke checks: a local HTTP server for the edge cases, the real sample app for the end-to-end."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from aither_assets.config.pipeline import SmokeCheck
from aither_assets.smoke.checks import (
    MAX_BODY_BYTES,
    SmokeReport,
    run_smoke,
    smoke_table,
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Handler(BaseHTTPRequestHandler):
    hits: list[str]
    away: str = ""

    def do_GET(self) -> None:
        self.hits.append(self.path)
        routes = {
            "/ok": (200, b"hello world", {}),
            "/fail": (500, b"boom", {}),
            "/to-ok": (302, b"", {"Location": "/ok"}),
            "/away": (302, b"", {"Location": self.away + "/ok"}),
            "/big": (200, b"a" * (MAX_BODY_BYTES + 10) + b"NEEDLE", {}),
            "/html": (200, b"<b>|x|</b>", {}),
        }
        if self.path == "/slow":
            time.sleep(0.3)
        status, body, headers = routes.get(self.path.split("?")[0], (200, b"slow", {}))
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        with contextlib.suppress(OSError):
            self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(port: int = 0, away: str = "") -> Iterator[tuple[str, list[str]]]:
    hits: list[str] = []
    handler = type("H", (Handler,), {"hits": hits, "away": away})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", hits
    finally:
        server.shutdown()
        server.server_close()


def by_path(report: SmokeReport) -> dict:
    return {r.path: r for r in report.results}


# --------------------------------------------------------------------------- local server


def test_checks_record_status_latency_body_and_reasons():
    with serve() as (url, _):
        report = run_smoke(url, [
            SmokeCheck(path="/ok", contains="hello"),
            SmokeCheck(path="/fail"),
            SmokeCheck(path="/fail", status=500, contains="boom"),
            SmokeCheck(path="/ok", contains="absent"),
            SmokeCheck(path="/slow", max_latency_ms=100),
        ], deadline_seconds=5)
    ok, wrong, expected_500, missing, slow = report.results
    assert ok.passed and ok.status == 200 and ok.body_ok is True and ok.reason is None and ok.latency_ms >= 0
    assert not wrong.passed and wrong.status == 500 and wrong.reason == "wrong status: got 500, expected 200"
    assert expected_500.passed
    assert not missing.passed and missing.body_ok is False and "missing text" in missing.reason
    assert not slow.passed and slow.latency_ms >= 250 and slow.reason.startswith("too slow: ")
    assert not report.passed and report.reachable
    assert report.counts == {"total": 5, "passed": 2, "failed": 3}


def test_same_host_redirects_are_followed_and_off_host_ones_are_not():
    with serve() as (elsewhere, away_hits), serve(away=elsewhere) as (url, _):
        report = run_smoke(url, [
            SmokeCheck(path="/to-ok", contains="hello"),
            SmokeCheck(path="/away"),
            SmokeCheck(path="/away", status=302),
        ], deadline_seconds=5)
    local, away, away_expected = report.results
    assert local.passed and local.status == 200
    assert not away.passed and away.status == 302
    assert "wrong status" in away.reason and f"redirect to another host not followed: {elsewhere}/ok" in away.reason
    assert not away_expected.passed and "not followed" in away_expected.reason
    assert away_hits == []  # the other host was never contacted


def test_body_read_is_capped():
    with serve() as (url, _):
        [result] = run_smoke(url, [SmokeCheck(path="/big", contains="NEEDLE")], deadline_seconds=5).results
    assert result.status == 200 and result.body_ok is False
    assert "first 1 MiB" in result.reason


def test_waits_for_a_service_that_starts_late():
    port = free_port()
    ready, done = threading.Event(), threading.Event()

    def start_later() -> None:
        time.sleep(0.8)
        with serve(port):
            ready.set()
            done.wait(10)

    thread = threading.Thread(target=start_later, daemon=True)
    thread.start()
    report = run_smoke(f"http://127.0.0.1:{port}/", [SmokeCheck(path="/ok")], deadline_seconds=10, retry_interval=0.2)
    assert report.passed and report.reachable and ready.is_set()
    assert report.wait_seconds >= 0.7
    done.set()
    thread.join()


def test_connection_refused_fails_every_check_after_the_deadline():
    port = free_port()
    started = time.monotonic()
    report = run_smoke(f"http://127.0.0.1:{port}", [SmokeCheck(path="/health"), SmokeCheck(path="/")],
                       deadline_seconds=1, retry_interval=0.2)
    assert time.monotonic() - started >= 1
    assert not report.passed and not report.reachable and report.duration >= 1
    for result in report.results:
        assert (result.status, result.latency_ms, result.body_ok, result.passed) == (None, None, None, False)
        assert result.reason.startswith("connection error: ") and "refused" in result.reason.lower()
        assert "did not answer within 1s" in result.reason


def test_json_and_markdown_reports_escape_pr_text():
    with serve() as (url, _):
        report = run_smoke(url, [SmokeCheck(path="/html", contains="<script>|"), SmokeCheck(path="/ok")],
                           deadline_seconds=5)
    data = json.loads(report.to_json())
    assert data["passed"] is False and data["results"][0]["expected_text"] == "<script>|"
    assert set(data["results"][0]) >= {"path", "expected_status", "status", "latency_ms", "body_ok", "passed", "reason"}
    markdown = report.to_markdown()
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith(("| /", "| \\/"))]
    assert len(rows) == 2 and all(row.count(" | ") == 6 for row in rows)  # no cell broke the table
    assert "**FAIL**" in markdown and "pass" in markdown


def test_missing_numbers_show_as_missing_not_zero():
    report = run_smoke(f"http://127.0.0.1:{free_port()}", [SmokeCheck(path="/x")], deadline_seconds=0.2)
    row = smoke_table(report.results).splitlines()[2]
    assert row.count("—") == 3 and "| 0 |" not in row


@pytest.mark.parametrize("base", ["ftp://host/", "127.0.0.1:8000", "http://user:pw@host/", "http:///x"])
def test_bad_base_urls_are_refused(base):
    with pytest.raises(ValueError):
        run_smoke(base, [SmokeCheck(path="/")], deadline_seconds=0.1)


# --------------------------------------------------------------------------- the real sample app


@pytest.mark.docker
def test_smoke_against_the_sample_app(previews, sample_images):
    envs, ports = previews
    dep = envs.deploy(21, sample_images.id, port=ports.allocate(21), container_port=8000, sha="c" * 40,
                      env={"APP_ENV": "pr-21"}, health_timeout=30)
    report = run_smoke(dep.url, [
        SmokeCheck(path="/health", contains='"status":"ok"'),
        SmokeCheck(path="/api/version", contains='"pr_number":"21"'),
        SmokeCheck(path="/", contains="sample-app"),
        SmokeCheck(path="/api/items/999", status=404),
    ], deadline_seconds=10)
    assert report.passed, report.to_markdown()

    failing = run_smoke(dep.url, [
        SmokeCheck(path="/api/version", contains='"pr_number":"22"'),
        SmokeCheck(path="/health", max_latency_ms=0.001),
        SmokeCheck(path="/nope"),
    ], deadline_seconds=10)
    text, slow, missing = failing.results
    assert not failing.passed and failing.reachable
    assert text.status == 200 and text.body_ok is False and "missing text" in text.reason
    assert slow.status == 200 and slow.body_ok is True and slow.reason.startswith("too slow: ")
    assert missing.reason == "wrong status: got 404, expected 200"


@pytest.mark.docker
def test_smoke_against_a_torn_down_preview_fails_after_the_deadline(previews, sample_images):
    envs, ports = previews
    dep = envs.deploy(22, sample_images.id, port=ports.allocate(22), container_port=8000, sha="d" * 40,
                      health_timeout=30)
    envs.teardown(22)
    report = run_smoke(dep.url, [SmokeCheck(path="/health")], deadline_seconds=1.5, retry_interval=0.25)
    [result] = report.results
    assert not report.passed and not report.reachable and report.duration >= 1.5
    assert result.status is None and result.reason.startswith("connection error: ")
