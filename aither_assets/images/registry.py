"""A tiny client for the OCI Distribution (Docker Registry HTTP API v2), on urllib.

Enough for what the pipeline does after ``docker push``: read a manifest and its digest, put a
manifest list (or any manifest) under a tag, list tags, delete a manifest. Authentication:
anonymous, HTTP Basic, or the token (Bearer) flow a registry announces in its
``WWW-Authenticate`` challenge, with the ``username``/``password`` of ``registry_auth``.
HTTPS by default; plain HTTP for loopback addresses (what the Docker engine also treats as
insecure) or when asked.

Credentials never appear in exceptions or log lines: every message that leaves this module
goes through :meth:`RegistryClient.redact`.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from aither_assets.images.tags import split_repository

DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
LIST_TYPES = (DOCKER_MANIFEST_LIST, OCI_INDEX)
ALL_MANIFEST_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST, OCI_MANIFEST, DOCKER_MANIFEST)

#: HTTP statuses worth retrying: the registry (or a proxy in front of it) is not ready.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
REDACTED = "***"


class RegistryError(RuntimeError):
    """A registry request failed; the message never contains credentials."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class RegistryUnreachable(RegistryError):
    """The registry did not answer at all (after the configured retries)."""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (``name``, ``name:port``, ``[v6]:port``) is a loopback address."""
    name = host
    if name.startswith("["):
        name = name[1:].split("]", 1)[0]
    elif name.count(":") == 1:
        name = name.split(":", 1)[0]
    if name.lower() == "localhost" or name.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@dataclass
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    params = dict(re.findall(r'(\w+)="([^"]*)"', rest))
    return scheme.lower(), params


class RegistryClient:
    """One registry (``host[:port]``), optionally with credentials.

    ``retries`` is how many times a request that could not reach the registry (connection
    refused, timeout, 429/5xx) is tried again, sleeping ``backoff * 2**attempt`` seconds
    in between; after that :class:`RegistryUnreachable` says
    ``registry HOST unreachable: <reason>``.
    """

    def __init__(
        self,
        address: str,
        auth: Mapping[str, str] | None = None,
        *,
        insecure: bool | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        log: Callable[[str], None] | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        address = re.sub(r"^https?://", "", address.strip()).strip("/")
        if not address or "/" in address:
            raise ValueError(f"registry address must be host[:port], got {address!r}")
        self.address = address
        self.scheme = "http" if (insecure if insecure is not None else is_loopback(address)) else "https"
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = max(0.0, float(backoff))
        self._log = log
        self._sleep = sleep
        self._username = (auth or {}).get("username") or None
        self._password = (auth or {}).get("password") or None
        self._secrets: list[str] = []
        if self._password:
            self._secrets.append(self._password)
            self._secrets.append(self._basic_token())
        self._tokens: dict[str, str] = {}  # scope -> bearer token
        self._challenge: tuple[str, dict[str, str]] | None = None
        self._opener = urllib.request.build_opener(_NoRedirectAuthHandler())

    # ------------------------------------------------------------------ secrets

    def _basic_token(self) -> str:
        raw = f"{self._username or ''}:{self._password or ''}".encode()
        return base64.b64encode(raw).decode()

    @property
    def secrets(self) -> tuple[str, ...]:
        """What :meth:`redact` hides: the password, its Basic token and any bearer token."""
        return tuple(self._secrets)

    def redact(self, text: str) -> str:
        """``text`` with every credential (and token derived from one) replaced by ``***``."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret:
                text = text.replace(secret, REDACTED)
        return text

    def _note(self, message: str) -> None:
        if self._log:
            self._log(self.redact(message))

    # ------------------------------------------------------------------ transport

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.address}{path}"

    def _auth_header(self, scope: str | None) -> str | None:
        if self._challenge is None:
            return None
        scheme, _ = self._challenge
        if scheme == "basic" and self._password:
            return "Basic " + self._basic_token()
        if scheme == "bearer":
            token = self._tokens.get(scope or "")
            return f"Bearer {token}" if token else None
        return None

    def _fetch_token(self, params: dict[str, str], scope: str | None) -> None:
        realm = params.get("realm")
        if not realm:
            raise RegistryError(f"registry {self.address} asked for a token without naming a realm")
        query = {"service": params["service"]} if params.get("service") else {}
        wanted = scope or params.get("scope")
        if wanted:
            query["scope"] = wanted
        url = realm + ("&" if "?" in realm else "?") + urllib.parse.urlencode(query)
        headers = {}
        if self._password:
            headers["Authorization"] = "Basic " + self._basic_token()
        response = self._send("GET", url, headers, None, what="token request")
        if response.status != 200:
            raise RegistryError(
                f"registry {self.address}: token service {urllib.parse.urlsplit(realm).netloc} refused "
                f"({response.status}); check the registry credentials",
                response.status,
            )
        try:
            data = json.loads(response.body)
            token = data.get("token") or data.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not token:
            raise RegistryError(f"registry {self.address}: token service returned no token")
        self._secrets.append(token)
        self._tokens[scope or ""] = token

    def _send(self, method: str, url: str, headers: Mapping[str, str], body: bytes | None, *, what: str) -> _Response:
        """One HTTP exchange with retries for transport failures and 429/5xx."""
        last_error = ""
        for attempt in range(self.retries + 1):
            if attempt:
                delay = self.backoff * (2 ** (attempt - 1))
                self._note(f"registry {self.address}: {what} retry {attempt}/{self.retries} "
                           f"in {delay:.2f}s ({last_error})")
                self._sleep(delay)
            request = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
            try:
                with self._opener.open(request, timeout=self.timeout) as handle:
                    return _Response(handle.status, dict(handle.headers.items()), handle.read())
            except urllib.error.HTTPError as exc:
                payload = exc.read() if exc.fp else b""
                if exc.code in RETRY_STATUSES and attempt < self.retries:
                    last_error = f"HTTP {exc.code}"
                    continue
                return _Response(exc.code, dict(exc.headers.items()) if exc.headers else {}, payload)
            except (urllib.error.URLError, OSError, TimeoutError, ssl.SSLError) as exc:
                reason = getattr(exc, "reason", exc)
                last_error = f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason
        raise RegistryUnreachable(self.redact(f"registry {self.address} unreachable: {last_error}"))

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        scope: str | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> _Response:
        """``method path`` with authentication (answering one 401 challenge); raise unless ``ok``."""
        base_headers = dict(headers or {})
        what = f"{method} {path}"
        for attempt in range(2):
            sent = dict(base_headers)
            auth = self._auth_header(scope)
            if auth:
                sent["Authorization"] = auth
            response = self._send(method, self.url(path), sent, body, what=what)
            if response.status == 401 and attempt == 0:
                challenge = response.headers.get("WWW-Authenticate") or response.headers.get("Www-Authenticate") or ""
                scheme, params = _parse_challenge(challenge)
                if scheme not in ("basic", "bearer"):
                    break
                self._challenge = (scheme, params)
                if scheme == "bearer":
                    self._fetch_token(params, scope)
                elif not self._password:
                    break
                continue
            break
        if response.status not in ok:
            raise RegistryError(self.redact(self._describe(what, response)), response.status)
        return response

    def _describe(self, what: str, response: _Response) -> str:
        detail = ""
        try:
            errors = json.loads(response.body).get("errors") or []
            detail = "; ".join(f"{e.get('code', '?')}: {e.get('message', '')}" for e in errors)
        except (ValueError, AttributeError):
            detail = response.body[:200].decode("utf-8", "replace").strip()
        if response.status == 401:
            hint = " (credentials missing or rejected)"
        elif response.status == 403:
            hint = " (access denied)"
        else:
            hint = ""
        return f"registry {self.address}: {what} -> HTTP {response.status}{hint}" + (f": {detail}" if detail else "")

    # ------------------------------------------------------------------ API

    @staticmethod
    def _scope(repository: str, actions: str) -> str:
        return f"repository:{repository}:{actions}"

    def ping(self) -> None:
        """Check that the registry speaks API v2 and accepts our credentials (if any)."""
        self.request("GET", "/v2/", ok=(200,))

    def get_manifest(
        self, repository: str, reference: str, accept: tuple[str, ...] = ALL_MANIFEST_TYPES
    ) -> tuple[str, str, bytes]:
        """``(media type, digest, body)`` of the manifest ``repository:reference``."""
        response = self.request(
            "GET", f"/v2/{repository}/manifests/{_quote(reference)}",
            headers={"Accept": ", ".join(accept)}, scope=self._scope(repository, "pull"),
        )
        media_type = _header(response.headers, "Content-Type") or ""
        if not media_type or media_type == "application/json":
            try:
                media_type = json.loads(response.body).get("mediaType") or media_type
            except ValueError:
                pass
        digest = _header(response.headers, "Docker-Content-Digest") or sha256_digest(response.body)
        return media_type.split(";")[0].strip(), digest, response.body

    def head_manifest(self, repository: str, reference: str,
                      accept: tuple[str, ...] = ALL_MANIFEST_TYPES) -> str | None:
        """The digest of ``repository:reference``, or ``None`` when there is no such manifest."""
        try:
            response = self.request(
                "HEAD", f"/v2/{repository}/manifests/{_quote(reference)}",
                headers={"Accept": ", ".join(accept)}, scope=self._scope(repository, "pull"),
            )
        except RegistryError as exc:
            if exc.status == 404:
                return None
            raise
        return _header(response.headers, "Docker-Content-Digest")

    def put_manifest(self, repository: str, reference: str, body: bytes, media_type: str) -> str:
        """Store ``body`` as manifest ``repository:reference``; return its digest."""
        response = self.request(
            "PUT", f"/v2/{repository}/manifests/{_quote(reference)}",
            headers={"Content-Type": media_type}, body=body,
            scope=self._scope(repository, "pull,push"), ok=(201, 200, 202),
        )
        digest = _header(response.headers, "Docker-Content-Digest") or sha256_digest(body)
        expected = sha256_digest(body)
        if digest != expected:
            raise RegistryError(f"registry {self.address} stored {repository}:{reference} as {digest}, "
                                f"expected {expected}")
        return digest

    def tags(self, repository: str) -> list[str]:
        """All tags of ``repository`` (following ``Link`` pagination); [] for an unknown repository."""
        found: list[str] = []
        path: str | None = f"/v2/{repository}/tags/list?n=1000"
        while path:
            try:
                response = self.request("GET", path, scope=self._scope(repository, "pull"))
            except RegistryError as exc:
                if exc.status == 404:
                    return found
                raise
            found.extend(json.loads(response.body).get("tags") or [])
            link = _header(response.headers, "Link") or ""
            match = re.search(r"<([^>]+)>", link)
            path = match.group(1) if match else None
        return found

    def delete(self, repository: str, reference: str) -> str:
        """Delete the manifest ``reference`` (a digest, or a tag resolved to its digest).

        Deleting by digest removes every tag pointing at it (that is how the API works); the
        registry must run with ``storage.delete.enabled``. Returns the deleted digest.
        """
        digest = reference
        if not reference.startswith("sha256:"):
            resolved = self.head_manifest(repository, reference)
            if resolved is None:
                raise RegistryError(f"registry {self.address}: {repository}:{reference} not found", 404)
            digest = resolved
        self.request(
            "DELETE", f"/v2/{repository}/manifests/{digest}",
            scope=self._scope(repository, "delete"), ok=(202, 200),
        )
        return digest


class _NoRedirectAuthHandler(urllib.request.HTTPRedirectHandler):
    """Follow redirects (blob stores do) but never carry our Authorization header to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.headers.pop("Authorization", None)
            new.unredirected_hdrs.pop("Authorization", None)
        return new


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name.lower():
            return value
    return None


def _quote(reference: str) -> str:
    return urllib.parse.quote(reference, safe=":")


def sha256_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def manifest_list(entries: list[dict], media_type: str = DOCKER_MANIFEST_LIST) -> bytes:
    """The body of a manifest list / OCI index over ``entries``.

    Each entry: ``{"mediaType", "digest", "size", "platform": {"os", "architecture"[, "variant"]}}``.
    """
    if media_type not in LIST_TYPES:
        raise ValueError(f"not a manifest list media type: {media_type}")
    document = {"schemaVersion": 2, "mediaType": media_type, "manifests": entries}
    return json.dumps(document, indent=3).encode()


def api_host(registry_host: str) -> str:
    """Where a registry's API answers: Docker Hub's images are named docker.io but served elsewhere."""
    return "registry-1.docker.io" if registry_host == "docker.io" else registry_host


def tag_manifest(reference: str, tags: list[str], auth: Mapping[str, str] | None = None, *,
                 insecure: bool | None = None, log: Callable[[str], None] | None = None) -> str:
    """Point ``tags`` at the manifest ``reference`` (``host[:port]/repo@sha256:...``) in its registry.

    No pull and no rebuild: the manifest is read by digest and stored again under each tag.
    Returns the digest.
    """
    repository_ref, _, digest = reference.partition("@")
    if not digest.startswith("sha256:"):
        raise ValueError(f"expected host/repository@sha256:..., got {reference!r}")
    host, repository = split_repository(repository_ref)
    client = RegistryClient(api_host(host), auth, insecure=insecure, log=log)
    media_type, got, body = client.get_manifest(repository, digest)
    if got != digest:
        raise RegistryError(f"registry {host} answered {got} for {repository}@{digest}")
    for tag in tags:
        client.put_manifest(repository, tag, body, media_type)
    return digest
