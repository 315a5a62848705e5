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


def _tar(tmp_path, members):
    """A tar archive of ``members``: (name, kind, data-or-link-target, mode)."""
    import io
    import tarfile

    path = tmp_path / "archive.tar"
    with tarfile.open(path, "w") as tar:
        for name, kind, payload, mode in members:
            info = tarfile.TarInfo(name)
            info.mode = mode
            info.type = kind
            if kind == tarfile.REGTYPE:
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
            else:
                info.linkname = payload
                tar.addfile(info)
    return path


def test_extract_checked_unpacks_what_the_data_filter_unpacks(tmp_path):
    """The fallback for Pythons without tarfile's "data" filter (Debian 12's 3.11.2) gives the same tree."""
    import tarfile

    from aither_assets.workspace import extract_checked

    archive = _tar(tmp_path, [("app", tarfile.DIRTYPE, "", 0o775), ("app/run.sh", tarfile.REGTYPE, b"#!/bin/sh\n", 0o4777),
                              ("app/data.txt", tarfile.REGTYPE, b"x", 0o666),
                              ("app/link", tarfile.SYMTYPE, "data.txt", 0o777),
                              ("copy.txt", tarfile.LNKTYPE, "app/data.txt", 0o644)])
    trees = {}
    # Where Python has the filter (3.11.4+), both must agree; elsewhere the fallback alone is checked.
    for how in ("fallback", "filter") if hasattr(tarfile, "data_filter") else ("fallback",):
        dest = tmp_path / how
        dest.mkdir()
        with tarfile.open(archive) as tar:
            extract_checked(tar, dest) if how == "fallback" else tar.extractall(dest, filter="data")
        trees[how] = {str(p.relative_to(dest)): (p.is_symlink(), oct(p.lstat().st_mode & 0o7777) if not p.is_symlink()
                                                 else "", p.read_text() if p.is_file() else None)
                      for p in sorted(dest.rglob("*"))}
    assert trees["fallback"]["app/run.sh"] == (False, "0o755", "#!/bin/sh\n")
    assert trees["fallback"]["app/link"][0] is True and trees["fallback"]["app/link"][2] == "x"
    assert trees["fallback"] == trees.get("filter", trees["fallback"])


@pytest.mark.parametrize("members, word", [
    ([("../evil", "0", b"x", 0o644)], "outside the tree"),
    ([("abs", "2", "/etc/passwd", 0o777)], "points outside"),
    ([("up", "2", "..", 0o777)], "points outside"),
    # each link is inside on its own; through the first, the second leaves the tree
    ([("d", "5", "", 0o755), ("d/l", "2", "..", 0o777), ("m", "2", "d/l/..", 0o777)], "points outside"),
    ([("hard", "1", "/etc/passwd", 0o644)], "points outside"),
    ([("dev", "3", "", 0o644)], "not a file, folder or link"),
])
def test_extract_checked_refuses_what_leaves_the_tree(tmp_path, members, word):
    import tarfile

    from aither_assets.workspace import extract_checked

    archive = _tar(tmp_path, [(n, k.encode(), p, m) for n, k, p, m in members])
    dest = tmp_path / "dest"
    dest.mkdir()
    with tarfile.open(archive) as tar, pytest.raises(WorkspaceError, match=word):
        extract_checked(tar, dest)
    assert not (tmp_path / "evil").exists()
