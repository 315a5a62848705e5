"""Build a PR's container image per platform with the Docker SDK and push it to a registry.

:func:`build_image` drives the engine through docker-py's low-level ``APIClient``: the build
log is streamed (``decode=True``) line by line to a ``log`` callback, and everything the PR
controls (tags, labels, build args) travels as data in API parameters, never through a shell.

* One platform: build, tag with every tag, push every tag; the digest is the image manifest's.
* Several platforms: build each one (checking the architecture of what came out, because the
  classic builder silently builds for the host when the Dockerfile's base is the host's),
  push each under a per-platform tag (``<tag0>-amd64``, ``<tag0>-arm64``), then write ONE
  manifest list referencing those manifests and PUT it under every tag through the registry
  API (:mod:`aither_assets.images.registry`); the digest is the list's.

The classic builder has no cross-platform support of its own: the per-platform base image is
passed as the ``BASE_IMAGE`` build argument (``base_images``), which is why the Dockerfile
must start with ``ARG BASE_IMAGE`` / ``FROM ${BASE_IMAGE}`` for multi-platform builds.
"""

from __future__ import annotations

import collections
import platform as _platform
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import docker
import docker.errors
import requests.exceptions

from aither_assets.images.host import PLATFORM_ARCH, arm64_emulation_available
from aither_assets.images.registry import (
    DOCKER_MANIFEST,
    DOCKER_MANIFEST_LIST,
    LIST_TYPES,
    OCI_INDEX,
    OCI_MANIFEST,
    RegistryClient,
    RegistryError,
    RegistryUnreachable,
    api_host,
    manifest_list,
)
from aither_assets.images.tags import is_valid_tag, platform_tag, split_repository

__all__ = [
    "ImageBuildError",
    "ImageResult",
    "RegistryError",
    "RegistryUnreachable",
    "build_image",
    "host_platform",
]

#: How many log lines an error message (and :attr:`ImageResult.log_tail`) carries.
LOG_TAIL_LINES = 30
_BUILD_ARG_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_USING_CACHE = re.compile(r"^\s*--->\s*Using cache\s*$")
#: Push errors that mean "the registry is not there (yet)", worth retrying.
_TRANSIENT = re.compile(
    r"connection refused|connection reset|i/o timeout|timed? ?out|no such host|no route to host|"
    r"\bEOF\b|temporar|unavailable|\b50[234]\b|\b429\b|too many requests|dial tcp|TLS handshake",
    re.IGNORECASE,
)
_AUTH_FAILURE = re.compile(r"unauthori[sz]ed|authentication required|denied|forbidden|\b401\b|\b403\b", re.IGNORECASE)
_MACHINE_PLATFORM = {"x86_64": "linux/amd64", "amd64": "linux/amd64", "aarch64": "linux/arm64", "arm64": "linux/arm64"}


class ImageBuildError(RuntimeError):
    """The image could not be built; the message names the platform and carries the log tail."""

    def __init__(self, message: str, log_tail: Sequence[str] = ()):
        super().__init__(message)
        self.log_tail = list(log_tail)


@dataclass
class ImageResult:
    """What was built and pushed.

    ``digest`` is what the tags point at in the registry: the image manifest's digest for one
    platform, the manifest list's for several. Deploy ``reference`` (``repo@digest``), not a tag.
    ``platforms`` maps each platform to ``digest`` (its image manifest), ``image_id``, ``size``
    (uncompressed bytes in the local store) and a few more details.
    """

    repository: str
    digest: str
    tags: list[str]
    platforms: dict[str, dict]
    build_seconds: float
    push_seconds: float
    log_tail: list[str]
    cached_steps: int = 0
    media_type: str = ""
    local_tags: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return f"{self.repository}@{self.digest}"

    def to_dict(self) -> dict:
        data = asdict(self)
        data["reference"] = self.reference
        return data


class _Log:
    """Forwards redacted lines to the caller's callback and keeps a tail for errors."""

    def __init__(self, sink: Callable[[str], None] | None, secrets: Sequence[str], keep: int = 200):
        self._sink = sink
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self.lines: collections.deque[str] = collections.deque(maxlen=keep)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def add_secret(self, secret: str) -> None:
        if secret and secret not in self._secrets:
            self._secrets = sorted([*self._secrets, secret], key=len, reverse=True)

    def __call__(self, line: str) -> None:
        line = self.redact(line.rstrip("\r\n"))
        self.lines.append(line)
        if self._sink is not None:
            self._sink(line)

    def tail(self, count: int = LOG_TAIL_LINES) -> list[str]:
        return list(self.lines)[-count:]


def host_platform() -> str:
    """The engine host's platform as ``linux/<arch>`` (the machine this runs on)."""
    machine = _platform.machine().lower()
    return _MACHINE_PLATFORM.get(machine, f"linux/{machine}")


def _engine_platform(api: docker.APIClient) -> str:
    try:
        info = api.version()
        return _MACHINE_PLATFORM.get(str(info.get("Arch", "")).lower(), f"linux/{info.get('Arch', '')}")
    except Exception:  # noqa: BLE001 - fall back to this machine
        return host_platform()


def _check_inputs(
    context_dir: Path,
    dockerfile: str,
    platforms: Sequence[str],
    repository: str,
    tags: Sequence[str],
    labels: Mapping[str, str],
    build_args: Mapping[str, str],
) -> tuple[str, str]:
    if not Path(context_dir).is_dir():
        raise ValueError(f"build context {context_dir} is not a directory")
    dockerfile_path = (Path(context_dir) / dockerfile).resolve()
    if not dockerfile_path.is_relative_to(Path(context_dir).resolve()):
        raise ValueError(f"Dockerfile {dockerfile!r} is outside the build context")
    if not dockerfile_path.is_file():
        raise ValueError(f"Dockerfile {dockerfile!r} not found in {context_dir}")
    if not platforms:
        raise ValueError("no platform to build")
    if len(set(platforms)) != len(platforms):
        raise ValueError(f"platforms listed twice: {list(platforms)}")
    for name in platforms:
        if name not in PLATFORM_ARCH:
            raise ValueError(f"unsupported platform {name!r}; supported: {sorted(PLATFORM_ARCH)}")
    if not tags:
        raise ValueError("no tag to push")
    bad = [tag for tag in tags if not is_valid_tag(tag)]
    if bad:
        raise ValueError(f"invalid tags (use aither_assets.images.tags): {bad!r}")
    if len(set(tags)) != len(tags):
        raise ValueError(f"tags listed twice: {list(tags)}")
    host, path = split_repository(repository)
    for key, value in {**labels, **build_args}.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise TypeError(f"labels and build args must map text to text, got {key!r}: {type(value).__name__}")
    for key in build_args:
        if not _BUILD_ARG_RE.fullmatch(key):
            raise ValueError(f"invalid build arg name {key!r}")
    for key in labels:
        if not key or any(ch.isspace() or ord(ch) < 32 for ch in key):
            raise ValueError(f"invalid label key {key!r}")
    return host, path


def _check_emulation(platforms: Sequence[str], native: str, log: _Log) -> None:
    for name in platforms:
        if name == native:
            continue
        if name == "linux/arm64":
            ok, detail = arm64_emulation_available()
            if not ok:
                raise ImageBuildError(
                    f"cannot build linux/arm64 on this {native} host: arm64 emulation (qemu-aarch64 via "
                    f"binfmt_misc) is missing: {detail}"
                )
            log(f"[aither] linux/arm64 on a {native} host: {detail}")
        else:
            log(f"[aither] warning: building {name} on a {native} host; RUN steps need emulation for it")


def _check_base(api: docker.APIClient, name: str, base: str) -> None:
    fix = f"build it with: aither base-image --platform {name}"
    try:
        info = api.inspect_image(base)
    except docker.errors.ImageNotFound:
        raise ImageBuildError(f"base image {base} for {name} is not in the local image store; {fix}") from None
    found = f"{info.get('Os', '?')}/{info.get('Architecture', '?')}"
    if found != name:
        raise ImageBuildError(f"base image {base} given for {name} is {found}; {fix}")


def _build_one(
    api: docker.APIClient,
    context_dir: Path,
    dockerfile: str,
    name: str,
    local_tag: str,
    labels: Mapping[str, str],
    build_args: Mapping[str, str],
    log: _Log,
    network_mode: str = "none",
) -> tuple[str, int]:
    """Build one platform's image; return (image id, number of steps served from cache)."""
    image_id = ""
    cached = 0
    pending = ""
    error = ""

    def emit(text: str) -> None:
        nonlocal pending, cached
        pending += text
        while "\n" in pending:
            line, pending = pending.split("\n", 1)
            if _USING_CACHE.match(line):
                cached += 1
            log(line)

    log(f"[aither] building {name} as {local_tag}")
    try:
        stream = api.build(
            path=str(context_dir),
            dockerfile=dockerfile,
            tag=local_tag,
            labels=dict(labels) or None,
            buildargs=dict(build_args) or None,
            platform=name,
            # PR Dockerfiles: RUN steps get no network (nothing of the control plane to reach) unless the
            # operator allows it, and no proxy settings (which may hold credentials) from our docker config.
            network_mode=network_mode,
            use_config_proxy=False,
            pull=False,
            rm=True,
            forcerm=True,
            decode=True,
        )
        for chunk in stream:
            if "stream" in chunk:
                emit(str(chunk["stream"]))
            elif "status" in chunk:
                emit(f"{chunk.get('id', '')}: {chunk['status']}".lstrip(": ") + "\n")
            if "aux" in chunk and isinstance(chunk["aux"], dict) and chunk["aux"].get("ID"):
                image_id = chunk["aux"]["ID"]
            if "error" in chunk or "errorDetail" in chunk:
                detail = chunk.get("errorDetail") or {}
                error = str(chunk.get("error") or detail.get("message") or "unknown error")
    except (docker.errors.APIError, docker.errors.BuildError, requests.exceptions.RequestException) as exc:
        error = str(exc)
    if pending:
        emit("\n")
    if error:
        log(f"[aither] error: {error}")
        tail = log.tail()
        hint = ""
        if "does not match the specified platform" in error:
            hint = (
                f" (the Dockerfile's base image is not a {name} image: pass the {name} base in "
                "base_images; it becomes the BASE_IMAGE build arg)"
            )
        raise ImageBuildError(
            f"building {name} image {local_tag} failed: {log.redact(error)}{hint}\n"
            f"--- last {len(tail)} lines of the build log ---\n" + "\n".join(tail),
            tail,
        )
    if not image_id:
        try:
            image_id = api.inspect_image(local_tag)["Id"]
        except docker.errors.ImageNotFound:
            raise ImageBuildError(f"building {name}: the engine reported no image", log.tail()) from None
    return image_id, cached


def _verify_platform(api: docker.APIClient, image_id: str, name: str, base: str | None) -> dict:
    info = api.inspect_image(image_id)
    found = f"{info.get('Os', '?')}/{info.get('Architecture', '?')}"
    if found != name:
        hint = (
            f"the base image {base} is {found}" if base else
            "the classic builder builds on the Dockerfile's base, which is for the host; pass the "
            f"{name} base image in base_images (it becomes the BASE_IMAGE build arg)"
        )
        raise ImageBuildError(f"asked for {name} but the built image {image_id[:19]} is {found}: {hint}")
    return info


def _push_tag(
    api: docker.APIClient,
    repository: str,
    tag: str,
    auth_config: dict | None,
    registry_host: str,
    log: _Log,
    retries: int,
    backoff: float,
    sleep: Callable[[float], None],
) -> tuple[str, int | None]:
    """``docker push repository:tag``; return (manifest digest, manifest size) from the stream."""
    last_error = ""
    for attempt in range(retries + 1):
        if attempt:
            delay = backoff * (2 ** (attempt - 1))
            log(f"[aither] push {repository}:{tag}: retry {attempt}/{retries} in {delay:.2f}s ({last_error})")
            sleep(delay)
        digest, size, error = "", None, ""
        try:
            for chunk in api.push(repository, tag=tag, stream=True, decode=True, auth_config=auth_config):
                if "error" in chunk or "errorDetail" in chunk:
                    detail = chunk.get("errorDetail") or {}
                    error = str(chunk.get("error") or detail.get("message") or "unknown error")
                    continue
                aux = chunk.get("aux")
                if isinstance(aux, dict) and aux.get("Digest"):
                    digest, size = aux["Digest"], aux.get("Size")
                status = chunk.get("status")
                if status and not chunk.get("progressDetail") and status not in ("Preparing", "Waiting"):
                    log(f"push {tag}: " + (f"{chunk['id']}: " if chunk.get("id") else "") + str(status))
        except (docker.errors.APIError, requests.exceptions.RequestException) as exc:
            error = str(exc)
        if not error and digest:
            return digest, size
        error = log.redact(error or "the engine reported no digest")
        if _AUTH_FAILURE.search(error) and not _TRANSIENT.search(error):
            raise RegistryError(f"registry {registry_host} refused the push of {repository}:{tag}: {error}")
        if not _TRANSIENT.search(error):
            raise RegistryError(f"pushing {repository}:{tag} to registry {registry_host} failed: {error}")
        last_error = error
    raise RegistryUnreachable(f"registry {registry_host} unreachable: {last_error}")


def _manifest_entry(registry: RegistryClient, path: str, digest: str, info: dict) -> dict:
    media_type, got, body = registry.get_manifest(path, digest, accept=(OCI_MANIFEST, DOCKER_MANIFEST))
    if got != digest:
        raise RegistryError(f"registry {registry.address} returned {got} for {path}@{digest}")
    if media_type not in (OCI_MANIFEST, DOCKER_MANIFEST):
        raise RegistryError(f"registry {registry.address}: {path}@{digest} is {media_type}, not an image manifest")
    target = {"architecture": info["Architecture"], "os": info["Os"]}
    if info.get("Variant"):
        target["variant"] = info["Variant"]
    elif info["Architecture"] == "arm64":
        target["variant"] = "v8"
    return {"mediaType": media_type, "digest": digest, "size": len(body), "platform": target}


def build_image(
    context_dir: Path,
    dockerfile: str,
    platforms: list[str],
    repository: str,
    tags: list[str],
    labels: dict | None = None,
    build_args: dict | None = None,
    base_images: dict[str, str] | None = None,
    registry_auth: dict | None = None,
    log: Callable[[str], None] | None = None,
    *,
    retries: int = 3,
    backoff: float = 1.0,
    insecure_registry: bool | None = None,
    list_media_type: str | None = None,
    client: docker.APIClient | None = None,
    timeout: float = 900,
    sleep: Callable[[float], None] = time.sleep,
    network_mode: str = "none",
) -> ImageResult:
    """Build ``context_dir`` for every platform, push it to ``repository`` under ``tags``.

    ``labels`` and ``build_args`` are passed to the engine as data; ``base_images`` maps a
    platform to the local base image given as the ``BASE_IMAGE`` build arg (it wins over a
    ``BASE_IMAGE`` in ``build_args``). ``registry_auth`` is ``{"username", "password"}``; it
    never shows in ``log`` lines or exceptions. An unreachable registry is retried ``retries``
    times with exponential ``backoff`` (seconds) before :class:`RegistryUnreachable`.
    ``list_media_type`` forces the manifest list type (default: Docker manifest list when the
    platform manifests are Docker v2 manifests, OCI index when they are OCI manifests).

    Raises ``ValueError`` for bad arguments, :class:`ImageBuildError` when a platform cannot be
    built (message has the last lines of the build log) and :class:`RegistryError` when the
    push fails.

    ``network_mode`` is the network of the build's RUN steps: ``none`` by default (PR code);
    ``default`` is the engine's bridge. The build gets no secrets: the registry credentials are
    used by the push alone, as API data the build never sees.
    """
    context_dir = Path(context_dir)
    labels = dict(labels or {})
    build_args = dict(build_args or {})
    base_images = dict(base_images or {})
    platforms = list(platforms)
    tags = list(tags)
    registry_host, path = _check_inputs(context_dir, dockerfile, platforms, repository, tags, labels, build_args)
    if list_media_type is not None and list_media_type not in LIST_TYPES:
        raise ValueError(f"list_media_type must be one of {LIST_TYPES}")
    auth = None
    if registry_auth:
        auth = {"username": str(registry_auth.get("username", "")), "password": str(registry_auth.get("password", ""))}
    logger = _Log(log, [auth["password"]] if auth else [])
    registry = RegistryClient(
        api_host(registry_host), auth, insecure=insecure_registry, retries=retries, backoff=backoff, log=logger,
        sleep=sleep,
    )
    for secret in registry.secrets:  # the Basic token derived from the password
        logger.add_secret(secret)

    own_client = client is None
    try:
        api = client or docker.APIClient(version="auto", timeout=int(timeout), **docker.utils.kwargs_from_env())
    except docker.errors.DockerException as exc:
        raise ImageBuildError(f"no Docker engine answers: {exc}") from exc
    try:
        native = _engine_platform(api)
        _check_emulation(platforms, native, logger)
        for name, base in base_images.items():
            if name in platforms:
                _check_base(api, name, base)
        # fail fast, before spending a build, when the registry is down or refuses us
        registry.ping()

        multi = len(platforms) > 1
        built: dict[str, dict] = {}
        build_started = time.monotonic()
        total_cached = 0
        for name in platforms:
            local_tag = f"{repository}:{platform_tag(tags[0], name) if multi else tags[0]}"
            args = dict(build_args)
            if name in base_images:
                args["BASE_IMAGE"] = base_images[name]
            started = time.monotonic()
            image_id, cached = _build_one(api, context_dir, dockerfile, name, local_tag, labels, args, logger,
                                          network_mode)
            info = _verify_platform(api, image_id, name, base_images.get(name))
            total_cached += cached
            built[name] = {
                "image_id": image_id,
                "size": info.get("Size"),
                "architecture": info.get("Architecture"),
                "variant": info.get("Variant") or None,
                "cached_steps": cached,
                "build_seconds": round(time.monotonic() - started, 3),
                "local_tag": local_tag,
                "_info": info,
            }
            logger(f"[aither] built {name} {image_id[:19]} ({cached} cached steps)")
        build_seconds = time.monotonic() - build_started

        push_started = time.monotonic()
        auth_config = dict(auth) if auth else None
        local_tags: list[str] = []
        if not multi:
            name = platforms[0]
            image_id = built[name]["image_id"]
            digests = {}
            for tag in tags:
                api.tag(image_id, repository, tag)
                local_tags.append(f"{repository}:{tag}")
                digest, _ = _push_tag(api, repository, tag, auth_config, registry_host, logger, retries, backoff, sleep)
                digests[tag] = digest
            if len(set(digests.values())) != 1:
                raise RegistryError(f"tags of one image got different digests: {digests}")
            digest = digests[tags[0]]
            media_type = registry.get_manifest(path, digest)[0]
            built[name]["digest"] = digest
            built[name]["media_type"] = media_type
        else:
            entries = []
            for name in platforms:
                local_tag = built[name]["local_tag"]
                ptag = local_tag.rsplit(":", 1)[1]
                local_tags.append(local_tag)
                pdigest, _ = _push_tag(api, repository, ptag, auth_config, registry_host, logger,
                                       retries, backoff, sleep)
                entry = _manifest_entry(registry, path, pdigest, built[name]["_info"])
                entries.append(entry)
                built[name].update(digest=pdigest, media_type=entry["mediaType"], tag=ptag, manifest_size=entry["size"])
            media_type = list_media_type or (
                OCI_INDEX if any(e["mediaType"] == OCI_MANIFEST for e in entries) else DOCKER_MANIFEST_LIST
            )
            body = manifest_list(entries, media_type)
            digests = {tag: registry.put_manifest(path, tag, body, media_type) for tag in tags}
            if len(set(digests.values())) != 1:
                raise RegistryError(f"the manifest list got different digests: {digests}")
            digest = digests[tags[0]]
            logger(f"[aither] manifest list {digest} ({len(entries)} platforms) under {len(tags)} tags")
        push_seconds = time.monotonic() - push_started
        logger(f"[aither] pushed {repository}@{digest}")
        for details in built.values():
            details.pop("_info", None)
        return ImageResult(
            repository=repository,
            digest=digest,
            tags=tags,
            platforms=built,
            build_seconds=round(build_seconds, 3),
            push_seconds=round(push_seconds, 3),
            log_tail=logger.tail(),
            cached_steps=total_cached,
            media_type=media_type,
            local_tags=local_tags,
        )
    except RegistryError as exc:
        message = logger.redact(str(exc))
        if message != str(exc):
            raise type(exc)(message, getattr(exc, "status", None)) from None
        raise
    finally:
        if own_client:
            api.close()
