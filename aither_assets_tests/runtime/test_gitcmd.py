"""The one git runner and the file locks, on real git and real files."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from aither_assets.runtime.gitcmd import GitCommandError, auth_env, file_lock, locked_bare_repo, run_git


class CustomError(RuntimeError):
    pass


def test_a_failing_git_raises_the_callers_error_with_gits_own_message(tmp_path: Path) -> None:
    with pytest.raises(CustomError, match=r"git rev-parse failed \(128\): .*not a git repository"):
        run_git(["rev-parse", "HEAD"], tmp_path, error=CustomError)
    assert run_git(["rev-parse", "HEAD"], tmp_path, check=False).returncode == 128


def test_git_does_not_see_the_callers_git_variables(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("GIT_DIR", str(tmp_path / "elsewhere"))
    run_git(["init", "--quiet", str(tmp_path / "repo")])
    assert (tmp_path / "repo" / ".git" / "HEAD").exists() and not (tmp_path / "elsewhere").exists()


def test_auth_env_puts_the_token_in_one_processes_environment_only() -> None:
    assert auth_env(None) == {} and auth_env("") == {}
    env = auth_env("s3cret")
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader" and "s3cret" not in env["GIT_CONFIG_VALUE_0"]
    assert env["GIT_CONFIG_VALUE_0"].startswith("Authorization: Basic ")


def test_file_lock_lets_one_holder_in_at_a_time(tmp_path: Path) -> None:
    lock = tmp_path / "locks" / "x.lock"
    inside, overlaps = [], []

    def hold() -> None:
        with file_lock(lock):
            if inside:
                overlaps.append(True)
            inside.append(True)
            time.sleep(0.05)
            inside.pop()

    threads = [threading.Thread(target=hold) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == [] and lock.exists()


def test_locked_bare_repo_is_created_once_and_kept(tmp_path: Path) -> None:
    bare = tmp_path / "cache" / "repo.git"
    with locked_bare_repo(bare, tmp_path / "cache" / "repo.lock") as path:
        assert path == bare and (bare / "HEAD").exists()
        (bare / "marker").write_text("kept")
    with locked_bare_repo(bare, tmp_path / "cache" / "repo.lock"):
        assert (bare / "marker").read_text() == "kept"
    with pytest.raises(GitCommandError):
        run_git(["--git-dir", str(bare), "rev-parse", "--verify", "HEAD"])  # an empty repository, no commit yet
