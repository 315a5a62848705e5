"""Integration: the real service, started as a subprocess, answering real HTTP requests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from http.client import HTTPConnection

import pytest

START_TIMEOUT = 15.0
ENV = {
    "PR_NUMBER": "77",
    "PR_TITLE": "<b>Bold</b> & brave",
    "COMMIT_SHA": "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00",
    "BASE_REF": "dev",
    "APP_ENV": "pr-77",
}


def _start(repo_root, port: int, extra_env: dict[str, str] | None = None) -> subprocess.Popen:
    env = {**os.environ, **ENV, "PORT": str(port), "HOST": "127.0.0.1", **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "app"],
        cwd=repo_root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"service exited early with {process.returncode}: {process.stderr.read()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise AssertionError(f"service did not answer /health on port {port} within {START_TIMEOUT}s")


def _stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    return process.returncode, stderr


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def service(repo_root):
    """Base URL of one service process shared by the tests of this module."""
    port = _free_port()
    process = _start(repo_root, port)
    yield f"http://127.0.0.1:{port}"
    _stop(process)


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def post_json(url: str, payload: object) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers.items()), exc.read()


def test_health(service):
    status, headers, body = get(f"{service}/health")
    assert status == 200
    assert json.loads(body) == {"status": "ok"}
    assert headers["Content-Type"] == "application/json"


def test_index_shows_escaped_pr_metadata(service):
    status, headers, body = get(f"{service}/")
    page = body.decode()
    assert status == 200
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert '<dd id="pr-number">77</dd>' in page
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; brave" in page
    assert "<b>Bold</b>" not in page


def test_version(service):
    status, _, body = get(f"{service}/api/version")
    assert status == 200
    payload = json.loads(body)
    assert payload["pr_number"] == "77"
    assert payload["commit_sha"] == ENV["COMMIT_SHA"]
    assert payload["base_ref"] == "dev"
    assert payload["environment"] == "pr-77"


def test_items_round_trip(service):
    status, headers, body = post_json(f"{service}/api/items", {"name": "integration widget", "quantity": 4})
    assert status == 201
    created = json.loads(body)
    assert headers["Location"] == f"/api/items/{created['id']}"
    status, _, body = get(f"{service}{headers['Location']}")
    assert (status, json.loads(body)) == (200, created)
    _, _, body = get(f"{service}/api/items")
    assert created in json.loads(body)["items"]


def test_invalid_item_is_rejected(service):
    status, _, body = post_json(f"{service}/api/items", {"name": "", "quantity": "many"})
    assert status == 422
    assert set(json.loads(body)["fields"]) == {"name", "quantity"}


def test_unknown_path_is_json_404(service):
    status, headers, body = get(f"{service}/does-not-exist")
    assert status == 404
    assert json.loads(body) == {"error": "not found"}
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_server_header_does_not_leak_the_python_version(service):
    _, headers, _ = get(f"{service}/health")
    assert headers["Server"] == "sample-app"


def test_oversized_body_is_refused_before_it_is_read(service):
    connection = HTTPConnection(service.removeprefix("http://"), timeout=5)
    try:
        connection.putrequest("POST", "/api/items")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", str(10 * 1024 * 1024))
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
    finally:
        connection.close()


def test_stops_cleanly_on_sigterm(repo_root, free_port):
    process = _start(repo_root, free_port)
    returncode, stderr = _stop(process)
    assert returncode == 0
    assert "listening on http://127.0.0.1:" in stderr
    assert "stopping" in stderr
