"""The operator config: trusted, but a typo must still stop the deployment with a clear line."""

import textwrap
from pathlib import Path

import pytest

from aither_assets.config import ConfigError, load_operator_config


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "aither.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def test_minimal_config_gets_the_spec_defaults(tmp_path):
    config = load_operator_config(write(tmp_path, "repository: acme/web\n"))
    assert config.owner == "acme" and config.repo_name == "web"
    assert config.github.api_url == "https://api.github.com"
    assert config.rings.ladder == ("dev", "staging", "ring-0", "ring-1", "ring-2", "production")
    # storage paths are relative to the config file, not to wherever the daemon was started
    assert config.storage.artifacts == tmp_path / ".aither" / "artifacts"
    assert config.pr_filters.skip_drafts and config.pr_filters.fork_approval_label == "ok-to-test"


@pytest.mark.parametrize(
    ("base", "ring"),
    [
        ("main", "production"),
        ("dev-staging", "staging"),
        ("dev", "dev"),
        ("develop", "dev"),
        ("ring-0-canary", "ring-0"),
        ("ring-1", "ring-1"),
        ("ring-2-eu", "ring-2"),
        ("feature/x", None),
        ("main-old", None),
    ],
)
def test_entry_ring_comes_from_the_base_branch(tmp_path, base, ring):
    config = load_operator_config(write(tmp_path, "repository: acme/web\n"))
    assert config.rings.entry_ring(base) == ring


def test_path_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AITHER_CONFIG", str(write(tmp_path, "repository: acme/web\n")))
    assert load_operator_config().repository == "acme/web"


def test_missing_environment_variable_is_named(monkeypatch):
    monkeypatch.delenv("AITHER_CONFIG", raising=False)
    with pytest.raises(ConfigError, match=r"\$AITHER_CONFIG: <top level>: not set"):
        load_operator_config()


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"nope.yaml: <top level>: file not found"):
        load_operator_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("repository: acme\n", "1: repository: must be owner/name, e.g. acme/web (got 'acme')"),
        ("repository: a/b\ngithub: {api_url: ftp://x}\n", "2: github.api_url: must be an http(s) URL such as https://api.github.com (got 'ftp://x')"),
        ("repository: a/b\ngithub: {token_env: 'MY-TOKEN'}\n", "2: github.token_env: must be an environment variable name, e.g. GITHUB_TOKEN (got 'MY-TOKEN')"),
        ("repository: a/b\ngithub: {token: ghp_secret}\n", "2: github.token: unknown field (check the spelling) (got 'ghp_secret')"),
        ("repository: a/b\nregistry: {username_env: U}\n", "2: registry: username_env and password_env go together: set both or neither"),
        ("repository: a/b\npreview: {port_range: [80, 90]}\n", "2: preview.port_range: must be [low, high] with 1024 <= low <= high <= 65535 (got [80, 90])"),
        ("repository: a/b\nrings:\n  entry: [{branch: main, ring: prod}]\n", "2: rings: entry rings ['prod'] are not on the ladder ['dev', 'staging', 'ring-0', 'ring-1', 'ring-2', 'production']"),
        ("repository: a/b\nrings:\n  ladder: [dev, dev, production]\n  entry: []\n", "2: rings: ladder names a ring twice: ['dev', 'dev', 'production']"),
        ("repository: a/b\npr_filters: {skip_drafts: maybe}\n", "2: pr_filters.skip_drafts: Input should be a valid boolean, unable to interpret input (got 'maybe')"),
    ],
)
def test_each_kind_of_error_is_one_actionable_line(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_operator_config(path)
    assert [str(i) for i in info.value.issues] == [f"{path}:{expected}"]


def test_a_secret_value_is_not_echoed_beyond_sixty_characters(tmp_path):
    # A token pasted into the wrong field shows up shortened, so logs do not carry it whole.
    secret = "ghp_" + "A" * 80
    path = write(tmp_path, f"repository: a/b\ngithub: {{token: {secret}}}\n")
    with pytest.raises(ConfigError) as info:
        load_operator_config(path)
    assert secret not in str(info.value)
