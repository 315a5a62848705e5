"""Repository webhooks: hooks, the delivery outbox and the deliverer.

A change that fires an event writes a `pending` row into `hook_deliveries`
in the same transaction as the change itself (an outbox), so events are
queued whichever process made the change, in commit order, and never for a
change that rolled back.  One deliverer thread -- run by the HTTP server, or
started with `LocalGitHub.start_deliverer()` -- POSTs pending rows in id
order the way GitHub's Hookshot does and records the outcome.  Like GitHub
it never retries by itself: a redelivery (`.../attempts`) queues a copy.

Payloads are rendered when the event happens (GitHub's are snapshots too),
with the URLs of the last server started on the data dir.  The secret is
stored because signing needs it, but no answer, record or log shows it.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import random
import re
import ssl
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

from .base import StoreBase
from .db import Row
from .errors import GitHubError, NotFound, ValidationFailed
from .serializers import View

HOOKSHOT_USER_AGENT = "GitHub-Hookshot/" + hashlib.sha1(b"localgithub").hexdigest()[:7]
DELIVERY_TIMEOUT = 10.0  # GitHub gives a receiver 10 s
POLL_INTERVAL = 0.05
RESPONSE_BODY_LIMIT = 64 * 1024  # what is kept of a receiver's answer
STALE_CLAIM = 60.0  # a claim older than this belonged to a deliverer that died mid-delivery
CONTENT_TYPES = {"json": "application/json", "form": "application/x-www-form-urlencoded"}
DEFAULT_PUBLIC_URL = "http://127.0.0.1"
MASK = "********"
UNUSED_RESPONSE = {"code": None, "status": "unused", "message": None}
ZEN = ("Design for failure.", "Keep it logically awesome.", "Speak like a human.",
       "Mind your words, they are important.", "Non-blocking is better than blocking.",
       "Favor focus over features.", "Avoid administrative distraction.", "Approachable is better than simple.",
       "Half measures are as bad as nothing at all.", "Encourage flow.", "Anything added dilutes everything else.",
       "Practicality beats purity.", "Responsive is better than fast.", "It's not fully shipped until it's fast.")
_URL_FORBIDDEN = re.compile(r"[^\x21-\x7e]")  # GitHub wants special characters encoded

# Deliverers running in this process, per database: a commit here wakes them at
# once instead of at their next poll.
_wakers: dict[str, set[threading.Event]] = {}
_wakers_lock = threading.Lock()


def _wake(db_key: str) -> None:
    with _wakers_lock:
        for event in _wakers.get(db_key, ()):
            event.set()


def _invalid(message: str) -> GitHubError:
    """GitHub's 422 for a bad hook: a `custom` error with a message, no field."""
    return GitHubError("Validation Failed", status=422,
                       errors=[{"resource": "Hook", "code": "custom", "message": message}])


def _check_url(url: Any) -> str:
    if url is None or url == "":
        raise _invalid("Config must contain URL for webhooks")
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
        valid = (parts is not None and parts.scheme in ("http", "https") and bool(parts.hostname)
                 and not _URL_FORBIDDEN.search(url) and (parts.port is None or parts.port > 0))
    except ValueError:  # e.g. a port that is not a number
        valid = False
    if not valid:
        raise _invalid("The URL you've entered is not valid. Please make sure that you encode all special "
                       "characters first")
    return url


def _check_config(config: dict[str, Any]) -> dict[str, Any]:
    """The stored columns for a validated hook config."""
    content_type = config.get("content_type")
    if content_type not in CONTENT_TYPES:
        raise _invalid(f"Config is invalid: content_type must be one of {', '.join(CONTENT_TYPES)}")
    insecure_ssl = config.get("insecure_ssl", "0")
    if isinstance(insecure_ssl, int) and not isinstance(insecure_ssl, bool):
        insecure_ssl = str(insecure_ssl)
    if insecure_ssl not in ("0", "1"):
        raise _invalid("Config is invalid: insecure_ssl must be \"0\" or \"1\"")
    secret = config.get("secret")
    if secret is not None and not isinstance(secret, str):
        raise _invalid("Config is invalid: secret must be a string")
    return {"url": _check_url(config.get("url")), "content_type": content_type, "insecure_ssl": insecure_ssl,
            "secret": secret or None}


def _check_events(events: Any, field: str = "events") -> list[str]:
    if isinstance(events, str) or not isinstance(events, Iterable):
        raise ValidationFailed("Hook", field, "invalid")
    names = list(events)
    if not all(isinstance(name, str) and name.strip() for name in names):
        raise ValidationFailed("Hook", field, "invalid")
    return list(dict.fromkeys(names))


def _check_active(active: Any) -> bool:
    if not isinstance(active, bool):
        raise ValidationFailed("Hook", "active", "invalid")
    return active


class WebhooksMixin(StoreBase):
    # -- hooks ------------------------------------------------------------------------

    def create_hook(self, owner: str, name: str, url: str, secret: str | None = None,
                    events: Iterable[str] = ("pull_request",), content_type: str = "json", active: bool = True,
                    actor: str | None = None, insecure_ssl: str = "0") -> dict:
        """Add a webhook to owner/name; an active one is pinged at once, as on GitHub."""
        repo = self.repo_row(owner, name)
        who = self.ensure_user(actor or owner)
        config = _check_config({"url": url, "content_type": content_type, "secret": secret,
                                "insecure_ssl": insecure_ssl})
        events, active = _check_events(events), _check_active(active)
        now = self.db.now_iso()
        with self.db.tx():
            if self.db.one("SELECT 1 AS x FROM hooks WHERE repo_id=? AND url=?", repo["id"], config["url"]):
                raise _invalid("Hook already exists on this repository")
            hook_id = self.db.insert("hooks", {
                "repo_id": repo["id"], "name": "web", "active": int(active), "events": json.dumps(events),
                **config, "created_at": now, "updated_at": now, "last_response": json.dumps(UNUSED_RESPONSE)})
            hook = self.hook_row(repo, hook_id)
            if active:
                self._queue_ping(repo, hook, who)
        return self.hook_view().hook(repo, hook)

    def hook_row(self, repo: Row, hook_id: int) -> Row:
        row = self.db.one("SELECT * FROM hooks WHERE id=? AND repo_id=?", int(hook_id), repo["id"])
        if row is None:
            raise NotFound()
        return row

    def hook_rows(self, repo: Row) -> list[Row]:
        return self.db.all("SELECT * FROM hooks WHERE repo_id=? ORDER BY id", repo["id"])

    def hooks(self, owner: str, name: str) -> list[dict]:
        """The repo's webhooks, shaped like GET /repos/{owner}/{repo}/hooks (secret masked)."""
        repo = self.repo_row(owner, name)
        view = self.hook_view()
        return [view.hook(repo, row) for row in self.hook_rows(repo)]

    def get_hook(self, owner: str, name: str, hook_id: int) -> dict:
        repo = self.repo_row(owner, name)
        return self.hook_view().hook(repo, self.hook_row(repo, hook_id))

    def edit_hook(self, owner: str, name: str, hook_id: int, config: dict[str, Any] | None = None,
                  events: Iterable[str] | None = None, add_events: Iterable[str] | None = None,
                  remove_events: Iterable[str] | None = None, active: bool | None = None) -> dict:
        """PATCH semantics: `config` keys override the stored ones (an omitted
        secret is kept), `events` replaces the list, add/remove edit it."""
        repo = self.repo_row(owner, name)
        with self.db.tx():
            hook = self.hook_row(repo, hook_id)
            values: dict[str, Any] = {}
            if config is not None:
                if not isinstance(config, dict):
                    raise ValidationFailed("Hook", "config", "invalid")
                current = {key: hook[key] for key in ("url", "content_type", "insecure_ssl", "secret")}
                values.update(_check_config({**current, **config}))
            names = json.loads(hook["events"]) if events is None else _check_events(events)
            if add_events is not None:
                names += _check_events(add_events, "add_events")
            if remove_events is not None:
                removed = set(_check_events(remove_events, "remove_events"))
                names = [event for event in names if event not in removed]
            values["events"] = json.dumps(list(dict.fromkeys(names)))
            if active is not None:
                values["active"] = int(_check_active(active))
            values["updated_at"] = self.db.now_iso()
            self.db.update("hooks", hook["id"], values)
            hook = self.hook_row(repo, hook_id)
        return self.hook_view().hook(repo, hook)

    def delete_hook(self, owner: str, name: str, hook_id: int) -> None:
        """Delete the hook and, as GitHub does, its deliveries (pending ones are never sent)."""
        repo = self.repo_row(owner, name)
        with self.db.tx() as c:
            hook = self.hook_row(repo, hook_id)
            c.execute("DELETE FROM hook_deliveries WHERE hook_id=?", (hook["id"],))
            c.execute("DELETE FROM hooks WHERE id=?", (hook["id"],))

    def ping_hook(self, owner: str, name: str, hook_id: int, actor: str | None = None) -> None:
        """Queue a `ping` event for the hook (even an inactive one, as the ping endpoint does)."""
        repo = self.repo_row(owner, name)
        who = self.ensure_user(actor or owner)
        with self.db.tx():
            self._queue_ping(repo, self.hook_row(repo, hook_id), who)

    # -- deliveries -----------------------------------------------------------------------

    def delivery_rows(self, repo: Row, hook_id: int) -> list[Row]:
        """The hook's deliveries, oldest first."""
        hook = self.hook_row(repo, hook_id)
        return self.db.all("SELECT * FROM hook_deliveries WHERE hook_id=? ORDER BY id", hook["id"])

    def delivery_row(self, repo: Row, hook_id: int, delivery_id: int) -> Row:
        hook = self.hook_row(repo, hook_id)
        row = self.db.one("SELECT * FROM hook_deliveries WHERE id=? AND hook_id=?", int(delivery_id), hook["id"])
        if row is None:
            raise NotFound()
        return row

    def hook_deliveries(self, owner: str, name: str, hook_id: int) -> list[dict]:
        """Every delivery of the hook, oldest first (the REST list is newest first),
        each with the request and response as GET .../deliveries/{id} shows them."""
        repo = self.repo_row(owner, name)
        view = self.hook_view()
        return [view.hook_delivery(row, full=True) for row in self.delivery_rows(repo, hook_id)]

    def hook_delivery(self, owner: str, name: str, hook_id: int, delivery_id: int) -> dict:
        repo = self.repo_row(owner, name)
        return self.hook_view().hook_delivery(self.delivery_row(repo, hook_id, delivery_id), full=True)

    def redeliver(self, owner: str, name: str, hook_id: int, delivery_id: int) -> dict:
        """Queue the same payload again under the same GUID (`redelivery: true`)."""
        repo = self.repo_row(owner, name)
        with self.db.tx():
            row = self.delivery_row(repo, hook_id, delivery_id)
            new_id = self._insert_delivery(row["hook_id"], row["repo_id"], row["event"], row["action"],
                                           row["payload"], guid=row["guid"], redelivery=True)
            new_row = self.db.one("SELECT * FROM hook_deliveries WHERE id=?", new_id)
        return self.hook_view().hook_delivery(new_row, full=True)

    def wait_for_deliveries(self, timeout: float = 5.0) -> None:
        """Block until no delivery is pending or in flight (needs a running deliverer);
        TimeoutError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            left = self.db.scalar("SELECT COUNT(*) FROM hook_deliveries WHERE status IN ('pending', 'delivering')")
            if not left:
                return
            if time.monotonic() >= deadline:
                raise TimeoutError(f"{left} webhook deliveries still pending after {timeout} s")
            time.sleep(0.005)

    def start_deliverer(self, poll_interval: float = POLL_INTERVAL) -> HookDeliverer:
        """Start a deliverer thread for this data dir; stop it with `.stop()` or use it
        as a context manager.  The HTTP server runs one of its own."""
        return HookDeliverer(self, poll_interval).start()

    def deliver_pending(self, stop: threading.Event | None = None, limit: int | None = None) -> int:
        """POST pending deliveries in id order on this thread; returns how many were made."""
        done = 0
        while (limit is None or done < limit) and not (stop is not None and stop.is_set()):
            row = self._claim_delivery()
            if row is None:
                break
            self._deliver(row)
            done += 1
        return done

    def release_stale_deliveries(self) -> int:
        """Requeue deliveries claimed by a deliverer that died mid-delivery."""
        with self.db.tx() as c:
            return c.execute("UPDATE hook_deliveries SET status='pending', claimed_at=NULL "
                             "WHERE status='delivering' AND claimed_at < ?", (time.time() - STALE_CLAIM,)).rowcount

    def _claim_delivery(self) -> Row | None:
        # The cheap indexed read first, so an idle poll never takes the write lock.
        if self.db.one("SELECT id FROM hook_deliveries WHERE status='pending' ORDER BY id LIMIT 1") is None:
            return None
        with self.db.tx() as c:
            row = c.execute("SELECT * FROM hook_deliveries WHERE status='pending' ORDER BY id LIMIT 1").fetchone()
            if row is not None:
                c.execute("UPDATE hook_deliveries SET status='delivering', claimed_at=? WHERE id=?",
                          (time.time(), row["id"]))
        return row

    def _deliver(self, row: Row) -> None:
        hook = self.db.one("SELECT * FROM hooks WHERE id=?", row["hook_id"])
        if hook is None:  # deleted since it was queued
            with self.db.tx() as c:
                c.execute("DELETE FROM hook_deliveries WHERE id=?", (row["id"],))
            return
        body, headers = _request(hook, row)
        delivered_at = self.db.now_iso()
        started = time.monotonic()
        code, response_headers, response_body = 0, {}, ""
        try:
            code, response_headers, raw = _post(hook["url"], body, headers, verify=hook["insecure_ssl"] != "1")
            response_body = raw.decode("utf-8", errors="replace")
            status = "OK" if 200 <= code < 300 else f"Invalid HTTP Response: {code}"
        except TimeoutError:
            status = "timed out"
        except http.client.HTTPException:
            status = "Invalid HTTP Response"
        except ssl.SSLError:
            status = "Peer certificate cannot be authenticated with given CA certificates"
        except (OSError, ValueError):
            status = "failed to connect to host"
        duration = round(time.monotonic() - started, 3)
        last_response = {"code": code or None, "status": "active" if status == "OK" else "failed",
                         "message": status}
        with self.db.tx() as c:
            c.execute("UPDATE hook_deliveries SET status=?, status_code=?, attempts=attempts+1, delivered_at=?, "
                      "duration=?, url=?, request_headers=?, response_headers=?, response_body=? WHERE id=?",
                      (status, code, delivered_at, duration, hook["url"], json.dumps(headers),
                       json.dumps(response_headers), response_body, row["id"]))
            c.execute("UPDATE hooks SET last_response=? WHERE id=?", (json.dumps(last_response), hook["id"]))

    # -- events -------------------------------------------------------------------------------

    def set_public_url(self, url: str) -> None:
        """The base URL payloads link to (the server records its own when it starts)."""
        with self.db.tx() as c:
            c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES('public_url', ?)", (url.rstrip("/"),))

    def hook_view(self) -> View:
        """A serializer outside any request: anonymous, with the server's URLs."""
        base = self.db.scalar("SELECT value FROM meta WHERE key='public_url'") or DEFAULT_PUBLIC_URL
        return View(self, base, base)  # type: ignore[arg-type]  # self is the assembled LocalGitHub

    def subscribed_hooks(self, repo: Row, event: str) -> list[Row]:
        rows = self.db.all("SELECT * FROM hooks WHERE repo_id=? AND active=1 ORDER BY id", repo["id"])
        return [row for row in rows if {event, "*"} & set(json.loads(row["events"]))]

    def queue_pr_event(self, repo: Row, number: int, action: str, actor: Row, *, label: Row | None = None,
                       changes: dict | None = None, before: str | None = None, after: str | None = None) -> None:
        """Queue a `pull_request` event for the base repo's hooks.

        Call it inside the transaction of the change, after the change: the
        payload is the PR as that transaction sees it.
        """
        hooks = self.subscribed_hooks(repo, "pull_request")
        if not hooks:
            return
        view = self.hook_view()
        pr = self.pr_row(repo, number)  # type: ignore[attr-defined]  # PullsMixin
        payload: dict[str, Any] = {"action": action, "number": pr["number"]}
        if changes is not None:
            payload["changes"] = changes
        payload["pull_request"] = view.pull(repo, pr, full=True)
        if before is not None:
            payload.update(before=before, after=after)
        if label is not None:
            payload["label"] = view.label(repo, label)
        payload.update(repository=view.repo(repo), sender=view.user(actor))
        text = _dumps(payload)
        with self.db.tx():
            for hook in hooks:
                self._insert_delivery(hook["id"], repo["id"], "pull_request", action, text)

    def queue_comment_event(self, repo: Row, comment_id: int, action: str, actor: Row,
                            changes: dict | None = None) -> None:
        """Queue an `issue_comment` event (created / edited), inside the comment's transaction."""
        hooks = self.subscribed_hooks(repo, "issue_comment")
        if not hooks:
            return
        view = self.hook_view()
        comment = self.comment_row(repo, comment_id)  # type: ignore[attr-defined]  # IssuesMixin
        issue = self.issue_row(repo, comment["issue_number"])  # type: ignore[attr-defined]
        payload: dict[str, Any] = {"action": action}
        if changes is not None:
            payload["changes"] = changes
        payload.update(issue=view.issue(repo, issue), comment=view.comment(repo, comment),
                       repository=view.repo(repo), sender=view.user(actor))
        text = _dumps(payload)
        with self.db.tx():
            for hook in hooks:
                self._insert_delivery(hook["id"], repo["id"], "issue_comment", action, text)

    def _queue_ping(self, repo: Row, hook: Row, actor: Row) -> None:
        view = self.hook_view()
        payload = {"zen": random.choice(ZEN), "hook_id": hook["id"], "hook": view.hook(repo, hook),
                   "repository": view.repo(repo), "sender": view.user(actor)}
        self._insert_delivery(hook["id"], repo["id"], "ping", None, _dumps(payload))

    def _insert_delivery(self, hook_id: int, repo_id: int, event: str, action: str | None, payload: str,
                         guid: str | None = None, redelivery: bool = False) -> int:
        with self.db.tx():
            delivery_id = self.db.insert("hook_deliveries", {
                "guid": guid or str(uuid.uuid4()), "hook_id": hook_id, "repo_id": repo_id, "event": event,
                "action": action, "payload": payload, "redelivery": int(redelivery), "status": "pending",
                "created_at": self.db.now_iso()})
            db_key = str(self.db.path)
            self.db.after_commit(lambda: _wake(db_key))
        return delivery_id


def _dumps(payload: dict) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"))


def _request(hook: Row, row: Row) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers GitHub would send; signatures cover the body bytes."""
    if hook["content_type"] == "form":
        body = urlencode({"payload": row["payload"]}).encode()
    else:
        body = row["payload"].encode("utf-8")
    headers = {"Accept": "*/*", "Content-Type": CONTENT_TYPES[hook["content_type"]],
               "User-Agent": HOOKSHOT_USER_AGENT, "X-GitHub-Delivery": row["guid"], "X-GitHub-Event": row["event"],
               "X-GitHub-Hook-ID": str(hook["id"]), "X-GitHub-Hook-Installation-Target-ID": str(row["repo_id"]),
               "X-GitHub-Hook-Installation-Target-Type": "repository"}
    if hook["secret"]:
        key = hook["secret"].encode("utf-8")
        headers["X-Hub-Signature"] = "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest()
        headers["X-Hub-Signature-256"] = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
    return body, headers


def _post(url: str, body: bytes, headers: dict[str, str], verify: bool) -> tuple[int, dict[str, str], bytes]:
    """POST without following redirects (GitHub does not); at most DELIVERY_TIMEOUT
    in all, and only the first RESPONSE_BODY_LIMIT bytes of the answer are read."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        context = ssl.create_default_context()
        if not verify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=DELIVERY_TIMEOUT, context=context)
    else:
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=DELIVERY_TIMEOUT)
    try:
        conn.request("POST", target, body=body, headers=headers)
        _shrink_timeout(conn, deadline)
        response = conn.getresponse()
        data = bytearray()
        while len(data) < RESPONSE_BODY_LIMIT:
            _shrink_timeout(conn, deadline)
            chunk = response.read1(RESPONSE_BODY_LIMIT - len(data))
            if not chunk:
                break
            data += chunk
        return response.status, dict(response.getheaders()), bytes(data)
    finally:
        conn.close()


def _shrink_timeout(conn: http.client.HTTPConnection, deadline: float) -> None:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError
    if conn.sock is not None:
        conn.sock.settimeout(remaining)


class HookDeliverer:
    """The thread that POSTs a data dir's pending deliveries.

    It polls the outbox every `poll_interval` seconds (changes made by other
    processes) and is woken at once by commits made in this process.
    """

    def __init__(self, store: WebhooksMixin, poll_interval: float = POLL_INTERVAL):
        self.store = store
        self.poll_interval = poll_interval
        self._db_key = str(store.db.path)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> HookDeliverer:
        if self._thread is None:
            self._stop.clear()
            with _wakers_lock:
                _wakers.setdefault(self._db_key, set()).add(self._wake)
            self._thread = threading.Thread(target=self._run, name="localgithub-hooks", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = DELIVERY_TIMEOUT + 5) -> None:
        """Stop after the delivery in flight (if any)."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stop.set()
        self._wake.set()
        thread.join(timeout)
        with _wakers_lock:
            waiting = _wakers.get(self._db_key, set())
            waiting.discard(self._wake)
            if not waiting:
                _wakers.pop(self._db_key, None)

    def __enter__(self) -> HookDeliverer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            self._guarded(self.store.release_stale_deliveries)
            while not self._stop.is_set():
                self._wake.clear()  # before looking, so a commit made meanwhile is not missed
                self._guarded(lambda: self.store.deliver_pending(stop=self._stop))
                self._wake.wait(self.poll_interval)
        finally:
            self.store.close()

    @staticmethod
    def _guarded(step) -> None:
        try:
            step()
        except Exception:  # noqa: BLE001 - a locked database or a bug must not end deliveries for good
            traceback.print_exc(file=sys.stderr)
            time.sleep(POLL_INTERVAL)
