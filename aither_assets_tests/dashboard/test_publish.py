"""Publishing: atomic local files, and a real push of a commit to a gh-pages branch of a bare repository."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest

from aither_assets.dashboard import publish
from aither_assets.dashboard.publish import PublishError, publish_gh_pages, publish_local


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "--bare", "--quiet", str(bare)], check=True)
    return bare


def test_local_publish_writes_atomically_and_keeps_other_files(tmp_path: Path):
    pages = tmp_path / "pages"
    publish_local(pages, {"pr-1/index.html": "one", "index.html": "index v1"})
    publish_local(pages, {"pr-2/index.html": "two", "index.html": "index v2", "rings/dev.html": "dev"})
    assert (pages / "pr-1/index.html").read_text() == "one"
    assert (pages / "pr-2/index.html").read_text() == "two"
    assert (pages / "index.html").read_text() == "index v2"
    assert (pages / "rings/dev.html").read_text() == "dev"
    assert not [p for p in pages.rglob("*") if p.name.endswith(".tmp")]
    assert (pages / "index.html").stat().st_mode & 0o777 == 0o644


@pytest.mark.parametrize("bad", ["../escape.html", "/etc/passwd", "pr-1/../../x", ".git/config", "a//b", "", "a\\b"])
def test_local_publish_refuses_paths_outside_the_folder(tmp_path: Path, bad: str):
    with pytest.raises(PublishError):
        publish_local(tmp_path / "pages", {bad: "x"})
    assert not (tmp_path / "escape.html").exists()


def test_local_publish_refuses_a_link_out_of_the_folder(tmp_path: Path):
    pages, outside = tmp_path / "pages", tmp_path / "outside"
    pages.mkdir()
    outside.mkdir()
    (pages / "pr-1").symlink_to(outside)
    with pytest.raises(PublishError):
        publish_local(pages, {"pr-1/index.html": "x"})
    assert list(outside.iterdir()) == []


def test_gh_pages_first_publish_creates_the_branch_and_later_ones_keep_other_prs(tmp_path: Path, remote: Path):
    first = publish_gh_pages(str(remote), {"pr-1/index.html": "<h1>one</h1>", "index.html": "index v1"}, token=None,
                             message="dashboard: PR #1", workdir=tmp_path / "work")
    assert git("rev-parse", "gh-pages", cwd=remote).strip() == first
    assert git("show", "gh-pages:pr-1/index.html", cwd=remote) == "<h1>one</h1>"
    assert git("rev-list", "--count", "gh-pages", cwd=remote).strip() == "1"  # an orphan branch: a root commit
    assert git("log", "-1", "--format=%an <%ae>|%s", "gh-pages", cwd=remote).strip() == \
        "aither <aither@localhost>|dashboard: PR #1"

    second = publish_gh_pages(str(remote), {"pr-2/index.html": "<h1>two</h1>", "index.html": "index v2"},
                              token=None, message="dashboard: PR #2", workdir=tmp_path / "other-work",
                              author=("bot", "bot@example.com"))
    assert git("rev-parse", "gh-pages^", cwd=remote).strip() == first
    assert git("rev-parse", "gh-pages", cwd=remote).strip() == second
    assert git("show", "gh-pages:pr-1/index.html", cwd=remote) == "<h1>one</h1>"
    assert git("show", "gh-pages:pr-2/index.html", cwd=remote) == "<h1>two</h1>"
    assert git("show", "gh-pages:index.html", cwd=remote) == "index v2"
    assert sorted(git("ls-tree", "-r", "--name-only", "gh-pages", cwd=remote).split()) == [
        ".nojekyll", "index.html", "pr-1/index.html", "pr-2/index.html"]

    # The same files again: nothing to commit, the branch stays where it is.
    again = publish_gh_pages(str(remote), {"pr-2/index.html": "<h1>two</h1>"}, token=None, message="again",
                             workdir=tmp_path / "work")
    assert again == second and git("rev-parse", "gh-pages", cwd=remote).strip() == second


def test_gh_pages_leaves_other_branches_alone(tmp_path: Path, remote: Path):
    source = tmp_path / "src"
    subprocess.run(["git", "init", "--quiet", "-b", "main", str(source)], check=True)
    (source / "README.md").write_text("app\n")
    git("add", "README.md", cwd=source)
    git("-c", "user.name=a", "-c", "user.email=a@b", "commit", "--quiet", "-m", "init", cwd=source)
    git("push", "--quiet", str(remote), "main", cwd=source)
    main = git("rev-parse", "main", cwd=remote).strip()
    publish_gh_pages(str(remote), {"index.html": "x"}, token=None, message="m", workdir=tmp_path / "work")
    assert git("rev-parse", "main", cwd=remote).strip() == main
    assert "README.md" not in git("ls-tree", "-r", "--name-only", "gh-pages", cwd=remote)


def test_gh_pages_retries_once_after_someone_else_published(tmp_path: Path, remote: Path, monkeypatch):
    publish_gh_pages(str(remote), {"pr-1/index.html": "one"}, token=None, message="1", workdir=tmp_path / "a")
    real_push = publish._push
    calls = []

    def racing_push(bare, clone_url, branch, commit, token):
        calls.append(commit)
        if len(calls) == 1:  # another publisher gets in between our fetch and our push
            monkeypatch.setattr(publish, "_push", real_push)
            publish_gh_pages(clone_url, {"pr-3/index.html": "three"}, token=None, message="3", workdir=tmp_path / "b")
            monkeypatch.setattr(publish, "_push", racing_push)
        return real_push(bare, clone_url, branch, commit, token)

    monkeypatch.setattr(publish, "_push", racing_push)
    pushed = publish_gh_pages(str(remote), {"pr-2/index.html": "two"}, token=None, message="2", workdir=tmp_path / "a")
    assert len(calls) == 2 and calls[1] == pushed != calls[0]
    assert git("rev-parse", "gh-pages", cwd=remote).strip() == pushed
    for n, text in ((1, "one"), (2, "two"), (3, "three")):
        assert git("show", f"gh-pages:pr-{n}/index.html", cwd=remote) == text
    assert git("log", "--format=%s", "gh-pages", cwd=remote).split() == ["2", "3", "1"]


def test_gh_pages_gives_up_after_a_second_rejection(tmp_path: Path, remote: Path, monkeypatch):
    publish_gh_pages(str(remote), {"pr-1/index.html": "one"}, token=None, message="1", workdir=tmp_path / "a")
    rejected = subprocess.CompletedProcess([], 1, b"", b" ! [rejected] gh-pages (non-fast-forward)")
    monkeypatch.setattr(publish, "_push", lambda *args: rejected)
    with pytest.raises(PublishError, match="non-fast-forward"):
        publish_gh_pages(str(remote), {"pr-2/index.html": "two"}, token=None, message="2", workdir=tmp_path / "a")


def test_token_goes_only_into_the_git_environment(tmp_path: Path, remote: Path, monkeypatch):
    token = "ghs_s3cr3tT0kenValue"
    seen = []
    real_run = subprocess.run

    def spy(argv, *args, **kwargs):
        if argv and argv[0] == "git":
            seen.append((list(argv), dict(kwargs.get("env") or {})))
        return real_run(argv, *args, **kwargs)

    monkeypatch.setattr(publish.subprocess, "run", spy)
    publish_gh_pages(str(remote), {"index.html": "x"}, token=token, message="m", workdir=tmp_path / "work")
    encoded = base64.b64encode(f"x-access-token:{token}".encode()).decode()
    network = [(argv, env) for argv, env in seen if argv[1] in ("ls-remote", "fetch", "push")]
    assert {argv[1] for argv, _ in network} == {"ls-remote", "push"}
    for argv, _ in seen:
        assert not any(token in arg or encoded in arg for arg in argv)  # never on a command line
    for _, env in network:
        assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
        assert env["GIT_CONFIG_VALUE_0"] == f"Authorization: Basic {encoded}"
    for argv, env in seen:
        if argv[1] not in ("ls-remote", "fetch", "push"):
            assert "GIT_CONFIG_VALUE_0" not in env  # local plumbing never sees it
    for path in [*tmp_path.rglob("*")]:
        if path.is_file():
            data = path.read_bytes()
            assert token.encode() not in data and encoded.encode() not in data, path


def test_gh_pages_refuses_bad_paths_and_branch_names(tmp_path: Path, remote: Path):
    with pytest.raises(PublishError):
        publish_gh_pages(str(remote), {"../x": "x"}, token=None, message="m", workdir=tmp_path / "w")
    with pytest.raises(PublishError):
        publish_gh_pages(str(remote), {"x": "x"}, branch="-f", token=None, message="m", workdir=tmp_path / "w")
    with pytest.raises(PublishError):
        publish_gh_pages(str(remote), {}, token=None, message="m", workdir=tmp_path / "w")
    assert git("branch", "--list", cwd=remote).strip() == ""
