"""The HTTP server: a threading ``http.server`` in front of :class:`app.handlers.App`."""

from __future__ import annotations

import logging
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app import APP_NAME
from app.config import ConfigError, Settings, load_settings
from app.handlers import MAX_BODY_BYTES, App, Response, error

log = logging.getLogger(APP_NAME)


class RequestHandler(BaseHTTPRequestHandler):
    """Reads the request, asks the :class:`App` for a response and writes it."""

    server_version = APP_NAME
    app: App  # set by make_server on a subclass

    def version_string(self) -> str:
        """``Server`` header: the app's name only, not the Python version."""
        return self.server_version

    def _body(self) -> bytes | Response:
        if self.headers.get("Transfer-Encoding"):
            return error(411, "send a Content-Length, not a chunked body")
        raw = self.headers.get("Content-Length", "0").strip() or "0"
        if not raw.isdigit():
            return error(400, "invalid Content-Length")
        length = int(raw)
        if length > MAX_BODY_BYTES:
            return error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length) if length else b""

    def _dispatch(self) -> None:
        method = "GET" if self.command == "HEAD" else self.command  # HEAD is GET without a body
        body = self._body()
        if isinstance(body, Response):
            self.close_connection = True
            response = body
        else:
            response = self.app.handle(method, self.path, dict(self.headers.items()), body)
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    # http.server calls do_<METHOD>; every method goes through the App's router
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch  # noqa: N815

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - signature of the base class
        """Access log through :mod:`logging` instead of bare stderr writes."""
        log.info("%s %s", self.address_string(), format % args)


def make_server(settings: Settings, app: App | None = None) -> ThreadingHTTPServer:
    """A server bound to ``settings.host:settings.port`` (not yet serving)."""
    handler = type("BoundRequestHandler", (RequestHandler,), {"app": app or App(settings)})
    server = ThreadingHTTPServer((settings.host, settings.port), handler)
    server.daemon_threads = True
    return server


def _stop(signum: int, _frame: object) -> None:
    # PID 1 in a container ignores SIGTERM unless a handler is installed
    raise SystemExit(128 + signum)


def main() -> int:
    """Load settings from the environment and serve until SIGTERM or Ctrl-C."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"{APP_NAME}: configuration error: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    server = make_server(settings)
    signal.signal(signal.SIGTERM, _stop)
    host, port = server.server_address[:2]
    log.info("listening on http://%s:%s (env %s)", host, port, settings.app_env)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    except SystemExit:
        log.info("stopping")
    finally:
        server.server_close()
    return 0
