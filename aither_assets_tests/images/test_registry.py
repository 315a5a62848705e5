"""The Distribution API v2 client: against a real ``docker-registry`` and a scripted fake."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from aither_assets.images.registry import (
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryClient,
    RegistryError,
    RegistryUnreachable,
    is_loopback,
    manifest_list,
    sha256_digest,
    tag_manifest,
)

from .conftest import TEST_PASSWORD, TEST_USERNAME, free_port

# --------------------------------------------------------------------------- helpers


def _push_blob(client: RegistryClient, repo: str, data: bytes) -> str:
    digest = sha256_digest(data)
    started = client.request("POST", f"/v2/{repo}/blobs/uploads/", scope=f"repository:{repo}:pull,push", ok=(202,))
    location = started.headers.get("Location") or started.headers.get("location")
    sep = "&" if "?" in location else "?"
    path = location.split(client.address, 1)[-1] if "://" in location else location
    client.request(
        "PUT", f"{path}{sep}digest={digest}", body=data,
        headers={"Content-Type": "application/octet-stream"}, scope=f"repository:{repo}:pull,push", ok=(201,),
    )
    return digest


def _tiny_image(client: RegistryClient, repo: str, arch: str = "amd64") -> tuple[bytes, str]:
    """Upload a one-file layer and a config; return the OCI image manifest body and its digest."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        payload = f"hello {arch}\n".encode()
        info = tarfile.TarInfo("hello.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    layer = gzip.compress(raw.getvalue(), mtime=0)
    diff_id = "sha256:" + hashlib.sha256(raw.getvalue()).hexdigest()
    config = json.dumps({
        "architecture": arch, "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [diff_id]}, "config": {},
    }).encode()
    layer_digest = _push_blob(client, repo, layer)
    config_digest = _push_blob(client, repo, config)
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": len(layer)}],
    }).encode()
    return manifest, sha256_digest(manifest)


# --------------------------------------------------------------------------- no registry needed


def test_loopback_detection_and_scheme():
    for host in ("127.0.0.1:5000", "localhost", "localhost:5000", "[::1]:5000", "127.9.9.9"):
        assert is_loopback(host), host
    for host in ("ghcr.io", "10.0.0.1:5000", "registry.example:443"):
        assert not is_loopback(host), host
    assert RegistryClient("127.0.0.1:5000").url("/v2/") == "http://127.0.0.1:5000/v2/"
    assert RegistryClient("ghcr.io").url("/v2/") == "https://ghcr.io/v2/"
    assert RegistryClient("10.0.0.1:5000", insecure=True).scheme == "http"
    with pytest.raises(ValueError):
        RegistryClient("ghcr.io/acme")


def test_manifest_list_body():
    entries = [{"mediaType": OCI_MANIFEST, "digest": "sha256:" + "a" * 64, "size": 10,
                "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}}]
    document = json.loads(manifest_list(entries, OCI_INDEX))
    assert document == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
    with pytest.raises(ValueError):
        manifest_list(entries, OCI_MANIFEST)


def test_unreachable_registry_is_retried_then_reported_without_secrets():
    port = free_port()  # nothing listens there
    sleeps: list[float] = []
    lines: list[str] = []
    client = RegistryClient(
        f"127.0.0.1:{port}", {"username": TEST_USERNAME, "password": TEST_PASSWORD},
        retries=3, backoff=0.01, sleep=sleeps.append, log=lines.append, timeout=2,
    )
    with pytest.raises(RegistryUnreachable) as caught:
        client.ping()
    assert str(caught.value).startswith(f"registry 127.0.0.1:{port} unreachable: ")
    assert "refused" in str(caught.value).lower()
    assert sleeps == [0.01, 0.02, 0.04]  # exponential backoff, 3 retries
    assert len(lines) == 3
    token = base64.b64encode(f"{TEST_USERNAME}:{TEST_PASSWORD}".encode()).decode()
    for text in [str(caught.value), *lines]:
        assert TEST_PASSWORD not in text and token not in text


class _FakeRegistry(BaseHTTPRequestHandler):
    """A registry that uses the token flow, and fails with 503 a set number of times."""

    token = "tok-" + "9" * 24
    failures_left = 0
    seen: ClassVar[list[tuple[str, str, str]]] = []
    manifest = json.dumps({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": {}, "layers": []}).encode()

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _handle(self):
        cls = type(self)
        auth = self.headers.get("Authorization", "")
        cls.seen.append((self.command, self.path, auth))
        port = self.server.server_address[1]
        if self.path.startswith("/token"):
            expected = "Basic " + base64.b64encode(f"{TEST_USERNAME}:{TEST_PASSWORD}".encode()).decode()
            if auth != expected:
                return self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad creds"}]}')
            return self._reply(200, json.dumps({"token": cls.token}).encode())
        if cls.failures_left > 0:
            cls.failures_left -= 1
            return self._reply(503, b"busy")
        if auth != f"Bearer {cls.token}":
            challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="fake-registry"'
            return self._reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"auth"}]}', {"WWW-Authenticate": challenge})
        if self.path == "/v2/":
            return self._reply(200, b"{}")
        if self.path.startswith("/v2/acme/app/manifests/"):
            if self.command == "PUT":
                body = self.rfile.read(int(self.headers["Content-Length"]))
                return self._reply(201, b"", {"Docker-Content-Digest": sha256_digest(body)})
            return self._reply(200, cls.manifest, {"Content-Type": OCI_MANIFEST, "Docker-Content-Digest": sha256_digest(cls.manifest)})
        if self.path.startswith("/v2/acme/app/tags/list"):
            if "last=" not in self.path:
                return self._reply(200, json.dumps({"name": "acme/app", "tags": ["a", "b"]}).encode(),
                                   {"Link": '</v2/acme/app/tags/list?n=2&last=b>; rel="next"'})
            return self._reply(200, json.dumps({"name": "acme/app", "tags": ["c"]}).encode())
        return self._reply(404, b'{"errors":[{"code":"NOT_FOUND","message":"nope"}]}')

    do_GET = do_HEAD = do_PUT = do_DELETE = do_POST = _handle


@pytest.fixture
def fake_registry():
    _FakeRegistry.seen = []
    _FakeRegistry.failures_left = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeRegistry)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_bearer_token_flow(fake_registry):
    client = RegistryClient(fake_registry, {"username": TEST_USERNAME, "password": TEST_PASSWORD})
    media_type, digest, body = client.get_manifest("acme/app", "v1")
    assert media_type == OCI_MANIFEST and digest == sha256_digest(body)
    assert client.put_manifest("acme/app", "v2", b'{"x": 1}', OCI_INDEX) == sha256_digest(b'{"x": 1}')
    assert client.tags("acme/app") == ["a", "b", "c"]  # follows the Link header
    token_calls = [entry for entry in _FakeRegistry.seen if entry[1].startswith("/token")]
    assert token_calls and all("scope=repository" in path for _, path, _ in token_calls)
    assert any("push" in path for _, path, _ in token_calls)
    assert _FakeRegistry.token not in client.redact(f"x {_FakeRegistry.token} y")


def test_bad_credentials_are_reported_without_the_password(fake_registry):
    client = RegistryClient(fake_registry, {"username": TEST_USERNAME, "password": "wrong-" + TEST_PASSWORD})
    with pytest.raises(RegistryError) as caught:
        client.ping()
    assert "refused (401)" in str(caught.value)
    assert TEST_PASSWORD not in str(caught.value)


def test_busy_registry_is_retried(fake_registry):
    _FakeRegistry.failures_left = 2
    sleeps: list[float] = []
    client = RegistryClient(fake_registry, {"username": TEST_USERNAME, "password": TEST_PASSWORD},
                            retries=3, backoff=0.001, sleep=sleeps.append)
    client.ping()
    assert len(sleeps) == 2


# --------------------------------------------------------------------------- real registry


def test_put_get_tags_delete_against_a_real_registry(local_registry):
    client = RegistryClient(local_registry.address)
    client.ping()
    repo = local_registry.repository("reg-client").split("/", 1)[1]
    amd64, amd64_digest = _tiny_image(client, repo, "amd64")
    arm64, arm64_digest = _tiny_image(client, repo, "arm64")
    assert client.put_manifest(repo, "one-amd64", amd64, OCI_MANIFEST) == amd64_digest
    assert client.put_manifest(repo, "one-arm64", arm64, OCI_MANIFEST) == arm64_digest
    media_type, digest, body = client.get_manifest(repo, "one-amd64")
    assert (media_type, digest, body) == (OCI_MANIFEST, amd64_digest, amd64)

    index = manifest_list([
        {"mediaType": OCI_MANIFEST, "digest": amd64_digest, "size": len(amd64), "platform": {"os": "linux", "architecture": "amd64"}},
        {"mediaType": OCI_MANIFEST, "digest": arm64_digest, "size": len(arm64),
         "platform": {"os": "linux", "architecture": "arm64", "variant": "v8"}},
    ], OCI_INDEX)
    index_digest = client.put_manifest(repo, "multi", index, OCI_INDEX)
    assert client.put_manifest(repo, "multi-latest", index, OCI_INDEX) == index_digest
    media_type, digest, body = client.get_manifest(repo, "multi", accept=(OCI_INDEX, DOCKER_MANIFEST_LIST))
    assert (media_type, digest) == (OCI_INDEX, index_digest)
    assert [m["platform"]["architecture"] for m in json.loads(body)["manifests"]] == ["amd64", "arm64"]
    assert client.head_manifest(repo, "multi") == index_digest
    assert sorted(client.tags(repo)) == ["multi", "multi-latest", "one-amd64", "one-arm64"]
    assert client.tags("no-such-repo-here") == []

    assert client.delete(repo, "multi") == index_digest  # by tag: resolved to the digest
    assert client.head_manifest(repo, "multi") is None
    assert client.head_manifest(repo, "multi-latest") is None  # same digest, gone too
    with pytest.raises(RegistryError) as caught:
        client.get_manifest(repo, "multi")
    assert caught.value.status == 404 and "MANIFEST_UNKNOWN" in str(caught.value)


def test_tag_manifest_points_new_tags_at_a_digest_without_a_pull(local_registry):
    client = RegistryClient(local_registry.address)
    repo = local_registry.repository("retag").split("/", 1)[1]
    manifest, digest = _tiny_image(client, repo, "amd64")
    client.put_manifest(repo, "pr-5-abcdef12", manifest, OCI_MANIFEST)
    other, other_digest = _tiny_image(client, repo, "arm64")
    client.put_manifest(repo, "dev-pr-5-latest", other, OCI_MANIFEST)  # an older deploy

    reference = f"{local_registry.address}/{repo}@{digest}"
    assert tag_manifest(reference, ["dev-pr-5-latest"]) == digest
    assert client.head_manifest(repo, "dev-pr-5-latest") == digest  # moved
    assert client.head_manifest(repo, "pr-5-abcdef12") == digest and other_digest != digest
    for bad in (f"{local_registry.address}/{repo}:pr-5", f"{local_registry.address}@{digest}", "no-digest"):
        with pytest.raises(ValueError):
            tag_manifest(bad, ["x"])
    with pytest.raises(RegistryError) as caught:
        tag_manifest(f"{local_registry.address}/{repo}@sha256:{'0' * 64}", ["x"])
    assert caught.value.status == 404 and client.head_manifest(repo, "x") is None


def test_basic_auth_against_a_real_registry(auth_registry):
    good = RegistryClient(auth_registry.address, auth_registry.auth)
    good.ping()
    repo = auth_registry.repository("reg-auth").split("/", 1)[1]
    manifest, digest = _tiny_image(good, repo)
    assert good.put_manifest(repo, "v1", manifest, OCI_MANIFEST) == digest
    assert good.tags(repo) == ["v1"]

    with pytest.raises(RegistryError) as anonymous:
        RegistryClient(auth_registry.address).ping()
    assert anonymous.value.status == 401

    lines: list[str] = []
    wrong = RegistryClient(auth_registry.address, {"username": TEST_USERNAME, "password": TEST_PASSWORD + "-x"}, log=lines.append)
    with pytest.raises(RegistryError) as rejected:
        wrong.tags(repo)
    assert rejected.value.status == 401 and "credentials missing or rejected" in str(rejected.value)
    assert TEST_PASSWORD not in str(rejected.value) and all(TEST_PASSWORD not in line for line in lines)
