"""The HTTP server: a ThreadingHTTPServer speaking GitHub's REST API v3.

Served at `/` and at `/api/v3/` (GitHub Enterprise style).  Each request
runs on its own thread with its own sqlite connection, closed afterwards.
While it serves, one background thread delivers the data dir's webhooks,
whichever process queued them (webhooks.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from .admin import handle_admin
from .api import handle_api
from .context import Request, Response
from .store import LocalGitHub
from .webhooks import HookDeliverer

MAX_BODY = 50 * 1024 * 1024


class LocalGitHubServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], store: LocalGitHub, verbose: bool = False):
        super().__init__(address, GitHubRequestHandler)
        self.store = store
        self.verbose = verbose
        self.deliverer = HookDeliverer(store)
        store.set_public_url(self.base_url)  # webhook payloads link here

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve, and deliver webhooks, until `shutdown()`."""
        self.deliverer.start()
        try:
            super().serve_forever(poll_interval)
        finally:
            self.deliverer.stop()

    def server_close(self) -> None:
        self.deliverer.stop()
        super().server_close()

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"


class GitHubRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "LocalGitHub/1.0"
    timeout = 60  # a client that stalls mid-request must not pin a thread forever
    server: LocalGitHubServer

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_GET

    def _handle(self) -> None:
        store = self.server.store
        try:
            request = Request.parse(self.command, self.path, self.headers, self._read_body(), self.client_address[0])
            if request.raw_path.startswith("/_aither/"):
                response = handle_admin(store, request)
            else:
                response = handle_api(store, request)
            self._send(response)
        finally:
            store.close()  # one connection per request

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, MAX_BODY)) if length > 0 else b""

    def _send(self, response: Response) -> None:
        payload = response.payload()
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status not in (204, 304):
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if response.status not in (204, 304):
            self.wfile.write(payload)

    def log_message(self, format: str, *args) -> None:
        # Quiet by default; request lines never contain tokens (they travel in headers).
        if self.server.verbose:
            super().log_message(format, *args)


def serve(data_dir: str | Path, host: str = "127.0.0.1", port: int = 0,
          verbose: bool = False) -> tuple[LocalGitHubServer, str]:
    """Bind a server (call `serve_forever()` on it); returns it and its base URL."""
    server = LocalGitHubServer((host, port), LocalGitHub(data_dir), verbose)
    return server, server.base_url


@contextmanager
def run_in_thread(data_dir: str | Path, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve in a background thread for the duration of the block; yields the base URL."""
    server, base_url = serve(data_dir, host, port)
    # A short poll interval keeps shutdown (and so each test's teardown) fast.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="localgithub",
                              daemon=True)
    thread.start()
    try:
        yield base_url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
