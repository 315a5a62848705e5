"""The Python API: real bare repos, PR refs, pushes, merges and shared state."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from aither_assets.devstack.localgithub import GitHubError, LocalGitHub

from .conftest import SOURCE_FILES

HOSTILE = [
    "<script>alert(1)</script>",
    "$(rm -rf /)",
    "`touch /tmp/pwned` && echo 'quoted' \"double\" ; |",
    "x" * 200,
    "ünïcödé — emoji 🚀 \\ back\\slash",
]
HOSTILE_BRANCHES = [
    "feat/<script>alert(1)</script>",
    "$(rm-rf-$HOME)",
    "it's-\"quoted\"-`tick`",
    "b/" + "x" * 198,
]


def git(*args: str, cwd: Path | None = None) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def test_create_repo_commits_the_source_folder_as_a_real_bare_repo(gh: LocalGitHub, data_dir: Path) -> None:
    repo = gh.get_repo("alice", "app")
    path = data_dir / "repos" / "alice" / "app.git"
    assert repo["clone_url"] == path.as_uri() and git("--git-dir", str(path), "rev-parse", "--is-bare-repository") == "true"
    files = git("--git-dir", str(path), "ls-tree", "-r", "--name-only", "main").splitlines()
    assert sorted(files) == sorted(SOURCE_FILES)
    author = git("--git-dir", str(path), "log", "-1", "--format=%an <%ae>", "main")
    assert author == "aither <aither@localhost>"


def test_commit_files_writes_deletes_and_the_repo_can_be_cloned(gh: LocalGitHub, tmp_path: Path) -> None:
    sha = gh.commit_files("alice", "app", "main", {"README.md": None, "bin/data": b"\x00\x01", "new.txt": "n\n"},
                          "change", author="Dev <dev@example.com>")
    clone = tmp_path / "clone"
    git("clone", "--quiet", gh.get_repo("alice", "app")["clone_url"], str(clone))
    assert git("rev-parse", "HEAD", cwd=clone) == sha
    assert not (clone / "README.md").exists() and (clone / "bin/data").read_bytes() == b"\x00\x01"
    assert git("log", "-1", "--format=%an <%ae>|%s", cwd=clone) == "Dev <dev@example.com>|change"


def test_pr_head_is_kept_as_refs_pull_head_and_follows_pushes(gh: LocalGitHub, data_dir: Path, feature_pr: int) -> None:
    bare = str(data_dir / "repos/alice/app.git")
    before = gh.get_pr("alice", "app", feature_pr)
    assert git("--git-dir", bare, "rev-parse", f"refs/pull/{feature_pr}/head") == before["head_sha"]
    sha = gh.commit_files("alice", "app", "feature", {"more.txt": "x"}, "more")
    after = gh.get_pr("alice", "app", feature_pr)
    assert after["head_sha"] == sha != before["head_sha"]
    assert git("--git-dir", bare, "rev-parse", f"refs/pull/{feature_pr}/head") == sha
    key = "SELECT updated_key FROM issues WHERE number=?"
    assert gh.db.scalar(key, feature_pr) > 0 and after["updated_at"] >= before["updated_at"]


def test_updated_at_sort_key_increases_within_one_second(gh: LocalGitHub, feature_pr: int) -> None:
    keys = []
    for label in ("a", "b", "c"):
        gh.add_labels("alice", "app", feature_pr, [label])
        keys.append(gh.db.scalar("SELECT updated_key FROM issues WHERE number=?", feature_pr))
    assert keys == sorted(keys) and len(set(keys)) == 3


def test_fork_pr_fetches_the_forks_commits_into_the_base_repo(gh: LocalGitHub, data_dir: Path) -> None:
    fork = gh.fork_repo("alice", "app", "bob")
    assert fork["fork"] and fork["parent_id"] == gh.get_repo("alice", "app")["id"]
    sha = gh.commit_files("bob", "app", "fix", {"fix.txt": "fixed\n"}, "fix")
    number = gh.open_pr("alice", "app", head="fix", base="main", title="Fix", user="bob", head_owner="bob")
    base = str(data_dir / "repos/alice/app.git")
    assert git("--git-dir", base, "rev-parse", f"refs/pull/{number}/head") == sha
    assert git("--git-dir", base, "cat-file", "-t", sha) == "commit"
    assert "refs/heads/fix" not in git("--git-dir", base, "for-each-ref")
    newer = gh.commit_files("bob", "app", "fix", {"fix.txt": "fixed again\n"}, "again")
    assert gh.get_pr("alice", "app", number)["head_sha"] == newer
    assert git("--git-dir", base, "rev-parse", f"refs/pull/{number}/head") == newer


def test_direct_git_push_is_picked_up_on_the_next_read(gh: LocalGitHub, feature_pr: int, tmp_path: Path) -> None:
    clone = tmp_path / "work"
    git("clone", "--quiet", "--branch", "feature", gh.get_repo("alice", "app")["clone_url"], str(clone))
    (clone / "pushed.txt").write_text("x")
    git("add", ".", cwd=clone)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "pushed", cwd=clone)
    git("push", "--quiet", "origin", "feature", cwd=clone)
    repo = gh.repo_row("alice", "app")
    gh.refresh_open_prs(repo)
    assert gh.get_pr("alice", "app", feature_pr)["head_sha"] == git("rev-parse", "HEAD", cwd=clone)


@pytest.mark.parametrize("title", HOSTILE)
def test_hostile_titles_and_bodies_round_trip(gh: LocalGitHub, title: str) -> None:
    gh.commit_files("alice", "app", "topic", {"t.txt": title}, title)
    number = gh.open_pr("alice", "app", head="topic", base="main", title=title, body=title)
    assert gh.get_pr("alice", "app", number)["title"] == title
    assert gh.pr_commits("alice", "app", number)[-1]["message"] == title


@pytest.mark.parametrize("branch", HOSTILE_BRANCHES)
def test_hostile_branch_names_round_trip(gh: LocalGitHub, branch: str) -> None:
    sha = gh.commit_files("alice", "app", branch, {"f.txt": "x"}, "x")
    number = gh.open_pr("alice", "app", head=branch, base="main", title="t")
    pr = gh.get_pr("alice", "app", number)
    assert (pr["head_ref"], pr["head_sha"]) == (branch, sha)


@pytest.mark.parametrize("branch", ["has space", "-leading-dash", "a..b", "x:y", "ends/", "a~1", "$(rm -rf /)"])
def test_invalid_branch_names_are_refused_before_reaching_git(gh: LocalGitHub, branch: str) -> None:
    with pytest.raises(GitHubError) as error:
        gh.commit_files("alice", "app", branch, {"f": "x"}, "x")
    assert error.value.status == 422


def test_pr_validation_mirrors_github(gh: LocalGitHub, feature_pr: int) -> None:
    cases = [
        {"head": "feature", "base": "missing", "title": "t"},
        {"head": "missing", "base": "main", "title": "t"},
        {"head": "feature", "base": "main", "title": ""},
        {"head": "feature", "base": "main", "title": "duplicate"},
        {"head": "main", "base": "main", "title": "no commits"},
    ]
    for case in cases:
        with pytest.raises(GitHubError) as error:
            gh.open_pr("alice", "app", **case)
        assert error.value.status == 422, case


def test_prs_and_issues_share_one_number_sequence(gh: LocalGitHub, feature_pr: int) -> None:
    issue = gh.open_issue("alice", "app", "An issue")
    gh.commit_files("alice", "app", "second", {"s.txt": "s"}, "s")
    assert (feature_pr, issue, gh.open_pr("alice", "app", head="second", base="main", title="2")) == (1, 2, 3)


def test_merge_creates_a_real_merge_commit_and_closes_the_pr(gh: LocalGitHub, data_dir: Path, feature_pr: int) -> None:
    head = gh.get_pr("alice", "app", feature_pr)["head_sha"]
    sha = gh.merge_pr("alice", "app", feature_pr, actor="alice")
    bare = str(data_dir / "repos/alice/app.git")
    parents = git("--git-dir", bare, "rev-list", "--parents", "-n", "1", "main").split()
    assert parents[0] == sha and parents[2] == head
    pr = gh.get_pr("alice", "app", feature_pr)
    assert pr["merged"] and pr["state"] == "closed"
    assert sorted(f["filename"] for f in gh.pr_files("alice", "app", feature_pr)) == ["NEW.md", "README.md", "src/app.py"]
    with pytest.raises(GitHubError) as error:
        gh.merge_pr("alice", "app", feature_pr)
    assert error.value.status == 405


def test_conflicting_pr_is_not_mergeable(gh: LocalGitHub, feature_pr: int) -> None:
    gh.commit_files("alice", "app", "main", {"src/app.py": "conflict\n"}, "conflict")
    repo = gh.repo_row("alice", "app")
    assert gh.mergeable(repo, gh.pr_row(repo, feature_pr)) is False
    with pytest.raises(GitHubError) as error:
        gh.merge_pr("alice", "app", feature_pr)
    assert error.value.status == 405


def test_squash_and_fast_forward_merges(gh: LocalGitHub, data_dir: Path, feature_pr: int) -> None:
    gh.commit_files("alice", "app", "ff", {"ff.txt": "x"}, "ff")
    ff = gh.open_pr("alice", "app", head="ff", base="main", title="ff")
    head = gh.get_pr("alice", "app", ff)["head_sha"]
    assert gh.merge_pr("alice", "app", ff, method="rebase") == head
    squash = gh.merge_pr("alice", "app", feature_pr, method="squash")
    parents = git("--git-dir", str(data_dir / "repos/alice/app.git"), "rev-list", "--parents", "-n", "1", squash)
    assert parents.split() == [squash, head]


def test_close_reopen_draft_and_edit_bump_updated_at(gh: LocalGitHub, feature_pr: int) -> None:
    def key() -> int:
        return gh.db.scalar("SELECT updated_key FROM issues WHERE number=?", feature_pr)

    seen = [key()]
    for change in (lambda: gh.set_draft("alice", "app", feature_pr, True),
                   lambda: gh.close_pr("alice", "app", feature_pr),
                   lambda: gh.reopen_pr("alice", "app", feature_pr),
                   lambda: gh.edit_pr("alice", "app", feature_pr, title="Renamed"),
                   lambda: gh.add_labels("alice", "app", feature_pr, ["x"]),
                   lambda: gh.remove_label("alice", "app", feature_pr, "x")):
        change()
        seen.append(key())
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    events = [e["event"] for e in gh.issue_events(gh.pr_row(gh.repo_row("alice", "app"), feature_pr)["issue_id"])]
    assert events == ["convert_to_draft", "closed", "reopened", "renamed", "labeled", "unlabeled"]


def test_state_is_shared_between_instances(gh: LocalGitHub, data_dir: Path, feature_pr: int) -> None:
    other = LocalGitHub(data_dir)
    other.add_labels("alice", "app", feature_pr, ["from-other"])
    assert gh.get_pr("alice", "app", feature_pr)["labels"] == ["from-other"]


def test_bulk_open_prs_creates_real_prs_quickly(gh: LocalGitHub, data_dir: Path) -> None:
    numbers = gh.bulk_open_prs("alice", "app", count=50, base="main", author="bob")
    assert numbers == list(range(1, 51))
    pr = gh.get_pr("alice", "app", 50)
    assert pr["head_ref"] == "bulk/pr-50" and pr["state"] == "open"
    assert git("--git-dir", str(data_dir / "repos/alice/app.git"), "rev-parse", "refs/pull/50/head") == pr["head_sha"]
    assert [f["filename"] for f in gh.pr_files("alice", "app", 50)] == ["bulk/pr-50.txt"]


def test_self_approval_is_refused(gh: LocalGitHub, feature_pr: int) -> None:
    with pytest.raises(GitHubError) as error:
        gh.add_review("alice", "app", feature_pr, "alice", "APPROVE")
    assert error.value.status == 422 and error.value.errors == ["Can not approve your own pull request"]
    assert gh.add_review("alice", "app", feature_pr, "bob", "APPROVE")["state"] == "APPROVED"
