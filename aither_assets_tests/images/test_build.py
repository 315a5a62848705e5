"""Building and pushing images with the Docker SDK, against a real engine and registry."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from aither_assets.devstack.baseimage import BaseImageError, base_image_for, build_python_base
from aither_assets.images import build as build_module
from aither_assets.images.build import ImageBuildError, ImageResult, build_image
from aither_assets.images.host import arm64_emulation_available, image_info
from aither_assets.images.registry import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    OCI_INDEX,
    RegistryClient,
    RegistryError,
    RegistryUnreachable,
)
from aither_assets.images.tags import image_tags, oci_labels, platform_tag

from .conftest import TEST_PASSWORD, TEST_USERNAME, free_port

SAMPLE_APP = Path(__file__).resolve().parents[2] / "examples" / "sample-app"
SHA = "c0ffee00deadbeef0123456789abcdef01234567"
HOSTILE_BRANCH = "feature/<script>$(rm -rf /)"
LIST_ACCEPT = (DOCKER_MANIFEST_LIST, OCI_INDEX)


def _labels(ring: str | None = "dev", title: str = "Add items $(id) `uname`") -> dict[str, str]:
    return oci_labels("https://github.com/acme/sample-app", SHA, "2024-06-11T10:00:00Z", 42, HOSTILE_BRANCH, ring, title)


def _inspect(reference: str) -> dict:
    result = subprocess.run(["docker", "image", "inspect", reference], capture_output=True, text=True, timeout=60, check=True)
    return json.loads(result.stdout)[0]


@pytest.fixture(scope="module")
def base_images(docker_engine) -> dict[str, str]:
    """Local base image per platform (built from Debian packages when missing)."""
    images = {}
    for platform in ("linux/amd64", "linux/arm64"):
        tag = base_image_for(platform)
        if image_info(tag) is None:
            try:
                build_python_base(tag, platform)
            except BaseImageError as exc:
                pytest.skip(f"base image {tag} is missing and cannot be built here: {exc}")
        images[platform] = tag
    return images


def _context_copy(tmp_path: Path, nonce: str) -> Path:
    """The sample app in a private context, with a nonce label so its first build is cold."""
    context = tmp_path / "sample-app"
    shutil.copytree(SAMPLE_APP, context, ignore=shutil.ignore_patterns("tests", "__pycache__", "*.pyc"))
    lines = (context / "Dockerfile").read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("FROM "))
    lines.insert(at + 1, f'LABEL io.aither.test-nonce="{nonce}"')
    (context / "Dockerfile").write_text("\n".join(lines) + "\n")
    return context


# --------------------------------------------------------------------------- no engine needed


def test_bad_arguments_are_rejected_before_any_work(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    common = {"context_dir": tmp_path, "dockerfile": "Dockerfile", "repository": "127.0.0.1:1/app"}
    with pytest.raises(ValueError, match="invalid tags"):
        build_image(platforms=["linux/amd64"], tags=["-bad"], **common)
    with pytest.raises(ValueError, match="unsupported platform"):
        build_image(platforms=["linux/s390x"], tags=["ok"], **common)
    with pytest.raises(ValueError, match="build arg"):
        build_image(platforms=["linux/amd64"], tags=["ok"], build_args={"A B": "x"}, **common)
    with pytest.raises(ValueError, match="outside the build context"):
        build_image(**{**common, "dockerfile": "../Dockerfile"}, platforms=["linux/amd64"], tags=["ok"])


class _FakeEngine:
    """Just enough of docker.APIClient for the checks that run before a build."""

    def __init__(self, pushes: list[list[dict]] | None = None):
        self.pushes = list(pushes or [])
        self.builds = 0

    def version(self):
        return {"Arch": "amd64", "Os": "linux"}

    def build(self, **kwargs):  # pragma: no cover - must not be reached
        self.builds += 1
        raise AssertionError("no build expected")

    def push(self, repository, tag=None, **kwargs):
        yield from self.pushes.pop(0)

    def inspect_image(self, reference):
        import docker.errors

        raise docker.errors.ImageNotFound(f"No such image: {reference}")

    def close(self):
        pass


def test_missing_base_image_is_named_with_the_fix(tmp_path):
    (tmp_path / "Dockerfile").write_text("ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\n")
    engine = _FakeEngine()
    with pytest.raises(ImageBuildError) as caught:
        build_image(tmp_path, "Dockerfile", ["linux/amd64"], "127.0.0.1:1/app", ["v1"],
                    base_images={"linux/amd64": "aither/no-such-base:1"}, client=engine)
    assert "aither/no-such-base:1" in str(caught.value)
    assert "aither base-image --platform linux/amd64" in str(caught.value)
    assert engine.builds == 0


def test_missing_arm64_emulation_is_named(monkeypatch, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    reason = "binfmt handler for aarch64 not registered: apt-get install -y qemu-user-static binfmt-support"
    monkeypatch.setattr(build_module, "arm64_emulation_available", lambda *a, **k: (False, reason))
    engine = _FakeEngine()
    with pytest.raises(ImageBuildError) as caught:
        build_image(tmp_path, "Dockerfile", ["linux/amd64", "linux/arm64"], "127.0.0.1:1/app", ["v1"], client=engine)
    message = str(caught.value)
    assert "linux/arm64" in message and "arm64 emulation" in message and "qemu-aarch64" in message
    assert reason in message
    assert engine.builds == 0


def test_push_retries_transient_engine_errors():
    refused = [{"status": "The push refers to repository [127.0.0.1:5/app]"},
               {"error": "Get \"http://127.0.0.1:5/v2/\": dial tcp 127.0.0.1:5: connect: connection refused"}]
    ok = [{"status": "Pushed", "id": "abc"}, {"aux": {"Tag": "v1", "Digest": "sha256:" + "1" * 64, "Size": 943}}]
    engine = _FakeEngine([refused, refused, ok])
    sleeps: list[float] = []
    log = build_module._Log(None, [TEST_PASSWORD])
    digest, size = build_module._push_tag(engine, "127.0.0.1:5/app", "v1", None, "127.0.0.1:5", log, 3, 0.5, sleeps.append)
    assert (digest, size, sleeps) == ("sha256:" + "1" * 64, 943, [0.5, 1.0])

    engine = _FakeEngine([refused] * 3)
    with pytest.raises(RegistryUnreachable, match="registry 127.0.0.1:5 unreachable: .*connection refused"):
        build_module._push_tag(engine, "127.0.0.1:5/app", "v1", None, "127.0.0.1:5", log, 2, 0.0, lambda _: None)

    denied = [{"error": f"unauthorized: authentication required for {TEST_PASSWORD}"}]
    engine = _FakeEngine([denied])
    with pytest.raises(RegistryError) as caught:
        build_module._push_tag(engine, "127.0.0.1:5/app", "v1", None, "127.0.0.1:5", log, 3, 0.0, lambda _: None)
    assert "refused the push" in str(caught.value) and TEST_PASSWORD not in str(caught.value)
    assert not engine.pushes  # not retried


# --------------------------------------------------------------------------- real engine


@pytest.mark.docker
def test_amd64_build_and_push_with_pr_tags(docker_engine, local_registry, image_cleanup, base_images):
    repository = local_registry.repository("sample-app")
    image_cleanup.repositories.append(repository)
    tags = image_tags(42, HOSTILE_BRANCH, 3, SHA)
    lines: list[str] = []
    result = build_image(
        SAMPLE_APP, "Dockerfile", ["linux/amd64"], repository, tags, _labels(),
        {"APP_VERSION": "1.0 $(touch /tmp/pwned)"}, {"linux/amd64": base_images["linux/amd64"]}, None, lines.append,
    )
    assert isinstance(result, ImageResult)
    assert result.repository == repository and result.tags == tags
    assert result.digest.startswith("sha256:") and result.media_type == DOCKER_MANIFEST
    assert result.reference == f"{repository}@{result.digest}"
    details = result.platforms["linux/amd64"]
    assert details["digest"] == result.digest and details["image_id"].startswith("sha256:")
    assert details["size"] > 1_000_000 and details["architecture"] == "amd64"
    assert result.build_seconds > 0 and result.push_seconds > 0
    assert any(line.startswith("Step ") for line in lines) and result.log_tail
    assert not Path("/tmp/pwned").exists()

    registry = RegistryClient(local_registry.address)
    path = repository.split("/", 1)[1]
    assert sorted(registry.tags(path)) == sorted(tags)
    for tag in tags:
        assert registry.head_manifest(path, tag) == result.digest, tag

    info = _inspect(f"{repository}:{tags[0]}")
    labels = info["Config"]["Labels"]
    for key, value in _labels().items():
        assert labels[key] == value, key
    assert labels["io.aither.base-ref"] == HOSTILE_BRANCH  # stored as data, nothing ran
    assert labels["org.opencontainers.image.title"] == "Add items $(id) `uname`"
    assert info["Architecture"] == "amd64"
    assert f"{repository}@{result.digest}" in info["RepoDigests"]


@pytest.mark.docker
def test_rebuild_uses_the_layer_cache(docker_engine, local_registry, image_cleanup, base_images, tmp_path):
    nonce = uuid.uuid4().hex
    context = _context_copy(tmp_path, nonce)
    repository = local_registry.repository("cache")
    image_cleanup.repositories.append(repository)
    image_cleanup.labels.append(f"io.aither.test-nonce={nonce}")
    bases = {"linux/amd64": base_images["linux/amd64"]}

    def run(tag: str) -> tuple[ImageResult, list[str]]:
        lines: list[str] = []
        result = build_image(context, "Dockerfile", ["linux/amd64"], repository, [tag], _labels(), {}, bases, None, lines.append)
        return result, lines

    cold, _ = run("cold")
    warm, warm_log = run("warm")
    steps = sum(1 for line in warm_log if line.startswith("Step "))
    assert cold.cached_steps == 0
    # everything after ARG/FROM (which never print "Using cache") comes from the cache
    assert warm.cached_steps == steps - 2
    assert warm.platforms["linux/amd64"]["image_id"] == cold.platforms["linux/amd64"]["image_id"]
    assert warm.digest == cold.digest

    config = context / "app" / "config.py"
    config.write_text(config.read_text() + "\n# one-line change\n")
    changed, changed_log = run("changed")
    assert 0 < changed.cached_steps < warm.cached_steps
    copy_at = next(i for i, line in enumerate(changed_log) if line.startswith("Step ") and " COPY " in line)
    assert not any("Using cache" in line for line in changed_log[copy_at:])  # COPY and after: rebuilt
    assert all("Using cache" in changed_log[i + 1] for i, line in enumerate(changed_log[:copy_at])
               if line.startswith("Step ") and i > 3)
    assert changed.digest != warm.digest


@pytest.mark.docker
def test_multi_platform_manifest_list(docker_engine, local_registry, image_cleanup, base_images):
    ok, why = arm64_emulation_available()
    if not ok:
        pytest.skip(f"arm64 emulation is not available: {why}")
    repository = local_registry.repository("multi")
    image_cleanup.repositories.append(repository)
    tags = image_tags(7, "main", 1, SHA)
    platforms = ["linux/amd64", "linux/arm64"]
    result = build_image(SAMPLE_APP, "Dockerfile", platforms, repository, tags, _labels("production"), {}, base_images, None, None)

    assert result.media_type == DOCKER_MANIFEST_LIST
    assert set(result.platforms) == set(platforms)
    assert result.platforms["linux/arm64"]["architecture"] == "arm64"
    per_platform = {p: d["digest"] for p, d in result.platforms.items()}
    assert len(set(per_platform.values())) == 2 and result.digest not in per_platform.values()

    registry = RegistryClient(local_registry.address)
    path = repository.split("/", 1)[1]
    expected_tags = set(tags) | {platform_tag(tags[0], p) for p in platforms}
    assert set(registry.tags(path)) == expected_tags
    for tag in tags:
        media_type, digest, body = registry.get_manifest(path, tag, accept=LIST_ACCEPT)
        assert (media_type, digest) == (DOCKER_MANIFEST_LIST, result.digest), tag
    document = json.loads(body)
    found = {f"{m['platform']['os']}/{m['platform']['architecture']}": m for m in document["manifests"]}
    assert set(found) == set(platforms)
    assert found["linux/arm64"]["platform"].get("variant") == "v8"
    for platform, entry in found.items():
        assert entry["digest"] == per_platform[platform] and entry["mediaType"] == DOCKER_MANIFEST
        media_type, digest, manifest = registry.get_manifest(path, entry["digest"])
        assert (media_type, len(manifest)) == (DOCKER_MANIFEST, entry["size"])

    # drop the local copies: `docker run` has to pull each platform from the registry
    for local_tag in result.local_tags:
        subprocess.run(["docker", "image", "rm", local_tag], capture_output=True, timeout=60, check=True)
    reference = f"{repository}@{result.digest}"
    code = "import platform; print(platform.machine())"
    for platform, machine in (("linux/arm64", "aarch64"), ("linux/amd64", "x86_64")):
        run = subprocess.run(
            ["docker", "run", "--rm", "--network", "none", "--platform", platform, reference, "python3", "-c", code],
            capture_output=True, text=True, timeout=120, check=False,
        )
        assert run.returncode == 0, run.stderr
        assert run.stdout.strip() == machine
        assert "Pulling from" in run.stderr or "Downloaded newer image" in run.stderr
        subprocess.run(["docker", "image", "rm", reference], capture_output=True, timeout=60, check=False)


@pytest.mark.docker
def test_failing_dockerfile_reports_the_failing_step(docker_engine, local_registry, image_cleanup, base_images, tmp_path):
    shell = Path("/bin/dash")
    if not shell.is_file():
        pytest.skip("no /bin/dash to give the shell-less base image a /bin/sh")
    nonce = uuid.uuid4().hex
    context = tmp_path / "broken"
    context.mkdir()
    shutil.copy2(shell, context / "sh")  # needs only libc, which the base image has
    (context / "Dockerfile").write_text(
        "ARG BASE_IMAGE=aither/python-base:3.11-bookworm\n"
        "FROM ${BASE_IMAGE}\n"
        f'LABEL io.aither.test-nonce="{nonce}"\n'
        "COPY sh /bin/sh\n"
        "RUN echo step-output-marker\n"
        "RUN exit 3\n"
    )
    repository = local_registry.repository("broken")
    image_cleanup.repositories.append(repository)
    image_cleanup.labels.append(f"io.aither.test-nonce={nonce}")
    lines: list[str] = []
    with pytest.raises(ImageBuildError) as caught:
        build_image(context, "Dockerfile", ["linux/amd64"], repository, ["v1"], {}, {},
                    {"linux/amd64": base_images["linux/amd64"]}, None, lines.append)
    message = str(caught.value)
    assert "step-output-marker" in message
    assert "RUN exit 3" in message and "returned a non-zero code: 3" in message
    assert "linux/amd64" in message
    assert len(caught.value.log_tail) <= 30 and "step-output-marker" in caught.value.log_tail
    assert RegistryClient(local_registry.address).tags(repository.split("/", 1)[1]) == []  # nothing pushed


@pytest.mark.docker
def test_arm64_with_an_amd64_base_is_caught(docker_engine, local_registry, image_cleanup, base_images, tmp_path):
    repository = local_registry.repository("wrong-arch")
    nonce = uuid.uuid4().hex
    image_cleanup.repositories.append(repository)
    image_cleanup.labels.append(f"io.aither.test-nonce={nonce}")  # the failed build's intermediate images
    # no base_images: the Dockerfile's default base is the amd64 image. The engine notices at
    # the first step that writes a layer (COPY) ...
    with pytest.raises(ImageBuildError, match=r"not a linux/arm64 image: pass the linux/arm64 base in base_images"):
        build_image(_context_copy(tmp_path, nonce), "Dockerfile", ["linux/arm64"], repository, ["v1"], {}, {},
                    None, None, None)
    # ... but a Dockerfile without one comes out as an amd64 image, which the check after the build catches
    context = tmp_path / "metadata-only"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"ARG BASE_IMAGE=aither/python-base:3.11-bookworm\nFROM ${{BASE_IMAGE}}\nLABEL io.aither.test-nonce={nonce}\n"
    )
    with pytest.raises(ImageBuildError, match=r"asked for linux/arm64 but the built image .* is linux/amd64"):
        build_image(context, "Dockerfile", ["linux/arm64"], repository, ["v2"], {}, {}, None, None, None)
    assert RegistryClient(local_registry.address).tags(repository.split("/", 1)[1]) == []


@pytest.mark.docker
def test_registry_down_is_retried_then_reported(docker_engine, base_images):
    port = free_port()
    sleeps: list[float] = []
    lines: list[str] = []
    started = time.monotonic()
    with pytest.raises(RegistryError) as caught:
        build_image(
            SAMPLE_APP, "Dockerfile", ["linux/amd64"], f"127.0.0.1:{port}/sample-app", ["v1"], {}, {},
            {"linux/amd64": base_images["linux/amd64"]}, {"username": TEST_USERNAME, "password": TEST_PASSWORD},
            lines.append, retries=2, backoff=0.01, sleep=sleeps.append,
        )
    assert str(caught.value).startswith(f"registry 127.0.0.1:{port} unreachable: ")
    assert sleeps == [0.01, 0.02]
    assert time.monotonic() - started < 20
    assert not any(line.startswith("Step ") for line in lines)  # failed before spending a build
    for text in [str(caught.value), repr(caught.value), *lines]:
        assert TEST_PASSWORD not in text


@pytest.mark.docker
def test_credentials_never_show(docker_engine, auth_registry, image_cleanup, base_images):
    repository = auth_registry.repository("private")
    image_cleanup.repositories.append(repository)
    lines: list[str] = []
    result = build_image(
        SAMPLE_APP, "Dockerfile", ["linux/amd64"], repository, ["v1", "latest"], _labels(), {},
        {"linux/amd64": base_images["linux/amd64"]}, auth_registry.auth, lines.append,
    )
    registry = RegistryClient(auth_registry.address, auth_registry.auth)
    assert sorted(registry.tags(repository.split("/", 1)[1])) == ["latest", "v1"]
    assert all(TEST_PASSWORD not in line for line in lines)
    assert TEST_PASSWORD not in repr(result) and TEST_PASSWORD not in json.dumps(result.to_dict())

    with pytest.raises(RegistryError) as caught:
        build_image(
            SAMPLE_APP, "Dockerfile", ["linux/amd64"], repository, ["v2"], {}, {},
            {"linux/amd64": base_images["linux/amd64"]},
            {"username": TEST_USERNAME, "password": "not-" + TEST_PASSWORD}, lines.append,
        )
    assert caught.value.status == 401
    assert TEST_PASSWORD not in str(caught.value) and all(TEST_PASSWORD not in line for line in lines)


@pytest.mark.docker
@pytest.mark.parametrize("network_mode", ["none", "default"])
def test_pr_dockerfile_run_steps_get_no_network_by_default(docker_engine, local_registry, image_cleanup, base_images,
                                                          tmp_path, network_mode):
    """A RUN step that reaches for a server of the host (the control plane's stand-in) only gets there when allowed."""
    import http.server
    import threading

    from aither_assets_tests.sandbox.test_hostile import bridge_gateway

    gateway = bridge_gateway()
    server = http.server.ThreadingHTTPServer((gateway, 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    nonce = uuid.uuid4().hex
    probe = (f"import socket, sys; s = socket.socket(); s.settimeout(3); "
             f"sys.exit(3 if s.connect_ex(({gateway!r}, {server.server_address[1]})) == 0 else 0)")
    context = tmp_path / "ctx"
    context.mkdir()
    (context / "Dockerfile").write_text(
        f"ARG BASE_IMAGE=aither/python-base:3.11-bookworm\nFROM $BASE_IMAGE\nLABEL io.aither.test-nonce={nonce}\n"
        f"RUN {json.dumps(['python3', '-c', probe])}\n")
    repository = local_registry.repository("netprobe")
    image_cleanup.repositories.append(repository)
    image_cleanup.labels.append(f"io.aither.test-nonce={nonce}")
    bases = {"linux/amd64": base_images["linux/amd64"]}
    try:
        if network_mode == "none":
            result = build_image(context, "Dockerfile", ["linux/amd64"], repository, ["probe"], {}, {}, bases, None)
            assert result.digest.startswith("sha256:")  # the RUN step could not connect, so it exited 0
        else:  # the operator allowed the network: the same step reaches the host (the probe is real)
            with pytest.raises(ImageBuildError, match="returned a non-zero code: 3"):
                build_image(context, "Dockerfile", ["linux/amd64"], repository, ["probe"], {}, {}, bases, None, print,
                            network_mode="default")
    finally:
        server.shutdown()
