"""Checkouts of one PR head from the local GitHub server's real git repositories."""

import pytest

from aither_assets.workspace import RepoCache, WorkspaceError, checkout, safe_name
from aither_assets_tests.conftest import OWNER, REPO


def clone_url(github):
    return github.store.get_repo(OWNER, REPO)["clone_url"]


def test_checkout_is_exactly_the_head_and_is_removed_after(github, tmp_path):
    number = github.open_pr("items", files={"app/items.py": "V = 1\n"})
    sha = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    cache = RepoCache(tmp_path / "cache")
    with checkout(cache, tmp_path / "ws", github.repository, clone_url(github), number, sha, "run-1") as root:
        assert (root / "app" / "items.py").read_text() == "V = 1\n"
        assert not (root / ".git").exists()  # PR code cannot reach the cache through .git
        saved = root
    assert not saved.exists()
    assert cache.commit(github.repository, sha).sha == sha


def test_an_older_head_is_still_checked_out_after_a_push(github, tmp_path):
    number = github.open_pr("items", files={"app/items.py": "V = 1\n"})
    old = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    github.push(number, {"app/items.py": "V = 2\n"})
    cache = RepoCache(tmp_path / "cache")
    with checkout(cache, tmp_path / "ws", github.repository, clone_url(github), number, old, "run-2") as root:
        assert (root / "app" / "items.py").read_text() == "V = 1\n"


def test_unknown_sha_is_a_clear_error(github, tmp_path):
    number = github.open_pr("items")
    with pytest.raises(WorkspaceError, match="is not on the server"):
        with checkout(RepoCache(tmp_path / "c"), tmp_path / "ws", github.repository, clone_url(github), number,
                      "f" * 40, "run-3"):
            pass
    with pytest.raises(WorkspaceError, match="not a full commit SHA"):
        RepoCache(tmp_path / "c").fetch_pr(github.repository, clone_url(github), number, "HEAD; rm -rf /")


@pytest.mark.parametrize("text", ["feature/<script>", "$(touch /tmp/x)", "../../etc", "a" * 300, ""])
def test_safe_name_is_one_harmless_path_component(text):
    name = safe_name(text)
    assert "/" not in name and not name.startswith(".") and 0 < len(name) <= 69
    assert name == safe_name(text)  # deterministic
