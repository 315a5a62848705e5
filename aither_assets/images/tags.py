"""Image tags, repository names and OCI labels for a PR's container image (pure functions).

Everything here is computed from PR-controlled text (branch names, titles) and must come out
as valid Docker/OCI references and labels whatever that text holds:

* a tag is ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`` (at most 128 characters, no leading ``.`` or
  ``-``);
* a repository path component is ``[a-z0-9]+(?:[._-][a-z0-9]+)*`` (distribution spec).

Tags for PR ``N``, base branch slug ``B``, per-PR iteration ``K`` and head SHA ``S`` (SPEC.md,
"Image tags"): ``pr-N-B-vK``, ``pr-N-B-latest``, ``pr-N-latest``, ``pr-N-<first 8 of S>`` and,
when the PR has an entry ring, ``<ring>-pr-N-latest``. The digest, not a tag, is what gets
deployed and promoted; tags are for people.

Sanitizing is deterministic. A name that only needs its ``/`` separators turned into ``-``
(``feature/login`` -> ``feature-login``) stays readable; anything else that had to change
(other characters, runs collapsed, leading ``.``/``-`` stripped) or that is too long is
shortened and gets ``-`` + the first 8 hex digits of the SHA-256 of the *original* text, so two
different hostile or long names do not end up with the same tag.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

MAX_TAG_LEN = 128
HASH_LEN = 8
DEFAULT_SLUG_LEN = 40
#: Longest label value we write; PR titles and refs beyond this are cut (with an ellipsis).
MAX_LABEL_LEN = 256

TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
#: One repository path component (distribution spec, the simple form the pipeline uses).
PATH_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
#: ``host[:port]`` of a registry: a DNS name, IPv4 or bracketed IPv6, optional port.
_REGISTRY_HOST_RE = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
    r"|\[[0-9A-Fa-f:.]+\])"
    r"(?::[0-9]{1,5})?$"
)
_INVALID_TAG_RUN = re.compile(r"[^A-Za-z0-9_.-]+")
_NON_ALNUM_RUN = re.compile(r"[^a-z0-9]+")
_HEX_RE = re.compile(r"^[0-9a-fA-F]+$")

OCI_SOURCE = "org.opencontainers.image.source"
OCI_REVISION = "org.opencontainers.image.revision"
OCI_CREATED = "org.opencontainers.image.created"
OCI_TITLE = "org.opencontainers.image.title"
LABEL_PR = "io.aither.pr"
LABEL_BASE_REF = "io.aither.base-ref"
LABEL_RING = "io.aither.ring"


def is_valid_tag(tag: object) -> bool:
    """Whether ``tag`` is a valid Docker/OCI tag."""
    return isinstance(tag, str) and TAG_RE.fullmatch(tag) is not None


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_LEN]


def _sanitize(text: str, max_len: int, strip_trailing: bool) -> str:
    if not isinstance(text, str):
        raise TypeError(f"expected text, got {type(text).__name__}")
    if max_len < HASH_LEN + 2:
        raise ValueError(f"max_len must be at least {HASH_LEN + 2}, got {max_len}")
    cleaned = _INVALID_TAG_RUN.sub("-", text).lstrip(".-")
    if strip_trailing:
        cleaned = cleaned.rstrip(".-")
    simple = text.replace("/", "-")  # the only change that keeps a name hash-free
    if cleaned and cleaned == simple and len(cleaned) <= max_len:
        return cleaned
    cleaned = re.sub(r"-{2,}", "-", cleaned)  # tidier: "rm -rf" -> "rm-rf", not "rm--rf"
    head = cleaned[: max_len - HASH_LEN - 1].rstrip(".-")
    suffix = _short_hash(text)
    return f"{head}-{suffix}" if head else suffix


def sanitize_tag(text: str, max_len: int = MAX_TAG_LEN) -> str:
    """``text`` as a valid tag (see the module docstring); deterministic.

    ``feature/login`` -> ``feature-login``; ``feature/<script>`` -> ``feature-script-1b2c3d4e``
    (the hash is of the original text); a 300-character name is cut to ``max_len`` including
    its hash; a name made only of symbols becomes its hash.
    """
    return _sanitize(text, min(max_len, MAX_TAG_LEN), strip_trailing=False)


def slug(text: str, max_len: int = DEFAULT_SLUG_LEN) -> str:
    """A short tag-safe slug of a branch or ring name, for use *inside* a tag.

    Like :func:`sanitize_tag` with a smaller limit, and trailing ``.``/``-`` are stripped too
    (so ``pr-1-<slug>-v2`` never gets a doubled separator).
    """
    return _sanitize(text, min(max_len, MAX_TAG_LEN), strip_trailing=True)


def _pr_number(pr: int) -> int:
    if isinstance(pr, bool) or not isinstance(pr, int) or pr < 1:
        raise ValueError(f"PR number must be a positive integer, got {pr!r}")
    return pr


def _checked(tag: str) -> str:
    # every composed tag is valid by construction; this is the belt to those braces
    return tag if is_valid_tag(tag) else sanitize_tag(tag)


def image_tags(pr: int, base_ref: str, iteration: int, sha: str) -> list[str]:
    """The tags an image of PR ``pr`` is pushed under when it is built, in this order:

    ``pr-N-B-vK``, ``pr-N-B-latest``, ``pr-N-latest``, ``pr-N-<first 8 of sha>``; ``B`` is
    :func:`slug` of ``base_ref``. The ring tag (:func:`ring_tag`) is set when it is deployed.
    """
    number = _pr_number(pr)
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        raise ValueError(f"iteration must be a non-negative integer, got {iteration!r}")
    if not isinstance(sha, str) or len(sha) < HASH_LEN or not _HEX_RE.fullmatch(sha):
        raise ValueError(f"head SHA must be at least {HASH_LEN} hex digits, got {sha!r}")
    branch = slug(base_ref)
    tags = [
        f"pr-{number}-{branch}-v{iteration}",
        f"pr-{number}-{branch}-latest",
        f"pr-{number}-latest",
        f"pr-{number}-{sha[:HASH_LEN].lower()}",
    ]
    return [_checked(tag) for tag in tags]


def ring_tag(pr: int, ring: str) -> str:
    """``<ring>-pr-N-latest``: the PR's build that runs in its entry ring's preview (set on deploy)."""
    return _checked(f"{slug(ring)}-pr-{_pr_number(pr)}-latest")


def platform_tag(tag: str, platform: str) -> str:
    """The tag under which one platform's image of a multi-platform build is pushed.

    ``pr-1-main-v2`` + ``linux/arm64`` -> ``pr-1-main-v2-arm64`` (variant included when the
    platform names one, e.g. ``linux/arm/v7`` -> ``...-arm-v7``); kept within 128 characters.
    """
    parts = platform.split("/")[1:] or [platform]
    suffix = "-" + "-".join(parts)
    if not is_valid_tag(tag):
        tag = sanitize_tag(tag)
    candidate = tag + suffix
    if is_valid_tag(candidate):
        return candidate
    return sanitize_tag(candidate)


def _path_component(text: str) -> str:
    lowered = text.lower()
    # keep a single ".", "_" or "-" between alphanumerics; any other run becomes "-"
    joined = _NON_ALNUM_RUN.sub(lambda m: m.group(0) if m.group(0) in (".", "_", "-") else "-", lowered)
    return joined.strip("._-")


def sanitize_repository_name(app_name: str) -> str:
    """``app_name`` as one or more lowercase repository path components (``a/b`` stays nested)."""
    if not isinstance(app_name, str):
        raise TypeError(f"expected text, got {type(app_name).__name__}")
    components = [_path_component(part) for part in app_name.split("/")]
    components = [part for part in components if part]
    if not components:
        raise ValueError(f"application name {app_name!r} has no character usable in an image name")
    return "/".join(components)


def image_repository(registry_address: str, app_name: str) -> str:
    """The image repository for ``app_name`` in ``registry_address``.

    ``("127.0.0.1:5000", "sample-app")`` -> ``127.0.0.1:5000/sample-app``;
    ``("ghcr.io/acme", "Sample App")`` -> ``ghcr.io/acme/sample-app``. A scheme
    (``https://``) and trailing ``/`` on the address are dropped; the host keeps its port and
    is lowercased, namespace and application name are sanitized to the distribution spec's
    lowercase path components.
    """
    address = registry_address.strip()
    address = re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", address).strip("/")
    host, _, namespace = address.partition("/")
    if not host or not _REGISTRY_HOST_RE.fullmatch(host):
        raise ValueError(f"invalid registry address {registry_address!r}")
    parts = [host.lower()]
    if namespace:
        parts.append(sanitize_repository_name(namespace))
    parts.append(sanitize_repository_name(app_name))
    repository = "/".join(parts)
    if len(repository) > 255:
        raise ValueError(f"image repository is longer than 255 characters: {repository[:80]}...")
    return repository


def split_repository(repository: str) -> tuple[str, str]:
    """``(registry host, repository path)`` of a repository like ``127.0.0.1:5000/acme/app``.

    The first component is the registry when it looks like a host (has ``.`` or ``:`` or is
    ``localhost``); otherwise the repository is on Docker Hub (``docker.io``, with the implied
    ``library/`` namespace for one-component names).
    """
    first, sep, rest = repository.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        if not _REGISTRY_HOST_RE.fullmatch(first):
            raise ValueError(f"invalid registry host in {repository!r}")
        host, path = first, rest
    else:
        host, path = "docker.io", repository if sep else f"library/{repository}"
    for part in path.split("/"):
        if not PATH_COMPONENT_RE.fullmatch(part):
            raise ValueError(f"invalid repository path component {part!r} in {repository!r}")
    return host, path


def clean_label_value(value: object, max_len: int = MAX_LABEL_LEN) -> str:
    """A label value with control and format characters removed and length capped."""
    text = "" if value is None else str(value)
    text = "".join(
        " " if ch in "\t\r\n" else ch
        for ch in text
        if ch in "\t\r\n" or unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn")
    ).strip()
    if len(text) > max_len:
        text = text[: max_len - 1].rstrip() + "\u2026"
    return text


def oci_labels(
    source_url: str,
    sha: str,
    created_iso: str,
    pr: int,
    base_ref: str,
    ring: str | None,
    title: str | None = None,
) -> dict[str, str]:
    """OCI annotations plus the pipeline's own labels for PR ``pr``'s image.

    Keys: ``org.opencontainers.image.source``, ``.revision``, ``.created``, ``.title`` (when
    given), ``io.aither.pr``, ``io.aither.base-ref`` and ``io.aither.ring`` (when the PR has
    one). Values are cleaned with :func:`clean_label_value`; they are passed to the engine as
    data, never through a shell.
    """
    labels = {
        OCI_SOURCE: clean_label_value(source_url),
        OCI_REVISION: clean_label_value(sha),
        OCI_CREATED: clean_label_value(created_iso),
    }
    if title is not None:
        labels[OCI_TITLE] = clean_label_value(title)
    labels[LABEL_PR] = str(_pr_number(pr))
    labels[LABEL_BASE_REF] = clean_label_value(base_ref)
    if ring is not None:
        labels[LABEL_RING] = clean_label_value(ring)
    return labels
