"""The webhook receiver's HTTP side: verify, parse, answer at once, handle on one worker thread.

GitHub waits at most 10 s for an answer and does not retry, so the receiver answers 202 as soon
as the delivery is verified and queued; one worker handles deliveries in the order they came
(GitHub's order for one PR). The PR sensor catches whatever a lost delivery would have started.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from aither_assets.webhooks.events import Delivery, DeliveryError, ignore_reason, parse_delivery
from aither_assets.webhooks.signature import HEADER, verify

log = logging.getLogger(__name__)

MAX_BODY = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
PATH = "/webhooks/github"


@dataclass
class DeliveryRecord:
    guid: str
    event: str
    action: str
    pr_number: int | None
    head_sha: str | None
    received_at: float
    outcome: str = "queued"
    handled_at: float | None = None


class WebhookReceiver:
    """``handle(delivery) -> outcome`` runs on the worker thread; its exceptions become the outcome."""

    def __init__(self, secret: bytes, repository: str, handle: Callable[[Delivery], str],
                 host: str = "127.0.0.1", port: int = 0, history: int = 200):
        if not secret:
            raise ValueError("a webhook secret is required: unsigned deliveries are never accepted")
        self._secret, self.repository, self._handle = secret, repository, handle
        self._queue: queue.Queue[tuple[Delivery, DeliveryRecord] | None] = queue.Queue()
        self._records: deque[DeliveryRecord] = deque(maxlen=history)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), _handler_class(self))
        self._server.daemon_threads = True
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{PATH}"

    def start(self) -> "WebhookReceiver":
        self._threads = [threading.Thread(target=self._server.serve_forever, name="webhook-http", daemon=True),
                         threading.Thread(target=self._work, name="webhook-worker", daemon=True)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._queue.put(None)
        for thread in self._threads:
            thread.join(timeout=30)

    def __enter__(self) -> "WebhookReceiver":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def records(self) -> list[dict]:
        with self._lock:
            return [asdict(r) for r in self._records]

    def wait_idle(self, timeout: float = 30) -> None:
        """Until every queued delivery is handled (tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)

    # -- the request, then the work ----------------------------------------------------------------

    def receive(self, headers, body: bytes) -> tuple[int, dict]:
        if not verify(self._secret, body, headers.get(HEADER)):
            return 401, {"message": f"missing or wrong {HEADER} signature"}
        try:
            delivery = parse_delivery(headers, body)
        except DeliveryError as exc:
            return exc.status, {"message": str(exc)}
        record = DeliveryRecord(delivery.guid, delivery.event, delivery.action, delivery.pr_number,
                                delivery.head_sha, time.time())
        with self._lock:
            self._records.append(record)
        reason = ignore_reason(delivery, self.repository)
        if reason is not None:
            record.outcome, record.handled_at = f"ignored: {reason}", time.time()
            return 200, {"message": "pong" if reason == "ping" else f"ignored: {reason}"}
        self._queue.put((delivery, record))
        return 202, {"message": "queued", "delivery": delivery.guid}

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            try:
                if item is None:
                    return
                delivery, record = item
                try:
                    record.outcome = self._handle(delivery)
                except Exception as exc:  # noqa: BLE001 - one bad delivery must not stop the worker
                    log.exception("delivery %s (PR #%s) failed", delivery.guid, delivery.pr_number)
                    record.outcome = f"error: {type(exc).__name__}: {exc}"
                record.handled_at = time.time()
                log.info("delivery %s %s.%s PR #%s: %s", delivery.guid, delivery.event, delivery.action,
                         delivery.pr_number, record.outcome)
            finally:
                self._queue.task_done()


def _handler_class(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "aither-webhooks"

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            if self.path.split("?")[0] != PATH:
                return self._reply(404, {"message": f"not found: POST deliveries to {PATH}"})
            try:
                length = int(self.headers.get("Content-Length") or "")
            except ValueError:
                return self._reply(411, {"message": "Content-Length required"})
            if length < 0 or length > MAX_BODY:
                return self._reply(413, {"message": f"body of {length} bytes is over {MAX_BODY}"})
            self._reply(*receiver.receive(self.headers, self.rfile.read(length)))

        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/healthz":
                return self._reply(200, {"status": "ok"})
            if self.path == "/deliveries":
                return self._reply(200, {"deliveries": receiver.records()})
            self._reply(404, {"message": "not found"})

        def _reply(self, status: int, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
            log.debug("%s " + format, self.address_string(), *args)

    return Handler
