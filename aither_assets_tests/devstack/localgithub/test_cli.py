"""`python -m aither_assets.devstack.localgithub`: the foreground server and the state subcommands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from aither_assets.cli import main as aither_main
from aither_assets.devstack.localgithub import LocalGitHub
from aither_assets.devstack.localgithub.cli import local_github

from .conftest import Api, write_tree

REPO_ROOT = Path(__file__).resolve().parents[3]


def run_cli(*args: str) -> dict:
    result = CliRunner().invoke(local_github, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_server_subprocess_prints_its_url_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    data = tmp_path / "gh"
    token = LocalGitHub(data).create_user("alice")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "aither_assets.devstack.localgithub", "--port", "0", "--data", str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("Local GitHub at http://127.0.0.1:")
        reply = Api(line.removeprefix("Local GitHub at "), token).get("/user")
        assert reply.status == 200 and reply.json["login"] == "alice"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out


def test_subcommands_change_the_shared_state(tmp_path: Path) -> None:
    data = str(tmp_path / "gh")
    source = write_tree(tmp_path / "src", {"README.md": "# x\n", "app/main.py": "print(1)\n"})
    patch = write_tree(tmp_path / "patch", {"notes.txt": "from a file\n"})
    user = run_cli("--data", data, "create-user", "alice", "--token", "ghp_cli")
    assert (user["login"], user["token"]) == ("alice", "ghp_cli")
    repo = run_cli("--data", data, "create-repo", "alice/app", "--from", str(source))
    assert repo["full_name"] == "alice/app" and repo["clone_url"].startswith("file://")
    pushed = run_cli("push", "alice/app", "feature", "--base", "main", "--data", data, "--from", str(patch),
                     "--file", f"docs/copy.txt=@{patch / 'notes.txt'}", "--file", "inline.txt=<b>hi</b>",
                     "--delete", "README.md", "-m", "cli push")
    pr = run_cli("--data", data, "open-pr", "alice/app", "--head", "feature", "--title", "From <CLI>")
    assert pr["number"] == 1 and pr["head_sha"] == pushed["sha"] and pr["title"] == "From <CLI>"
    assert run_cli("--data", data, "draft", "alice/app", "1")["draft"] is True
    assert run_cli("--data", data, "label", "alice/app", "1", "bug", "ok-to-test")["labels"] == ["bug", "ok-to-test"]
    assert run_cli("--data", data, "label", "alice/app", "1", "bug", "--remove")["labels"] == ["ok-to-test"]
    run_cli("--data", data, "draft", "alice/app", "1", "--ready")
    merged = run_cli("--data", data, "merge", "alice/app", "1")
    assert merged["merged"] and merged["state"] == "closed"
    store = LocalGitHub(data)
    files = {f["filename"]: f["status"] for f in store.pr_files("alice", "app", 1)}
    assert files == {"README.md": "removed", "docs/copy.txt": "added", "inline.txt": "added", "notes.txt": "added"}
    fork = run_cli("--data", data, "fork", "alice/app", "bob")
    assert fork["fork"] and fork["full_name"] == "bob/app"
    run_cli("--data", data, "push", "alice/app", "other", "--base", "main", "--file", "o.txt=o")
    run_cli("--data", data, "open-pr", "alice/app", "--head", "other", "--title", "Other")
    assert run_cli("--data", data, "close", "alice/app", "2")["state"] == "closed"
    armed = run_cli("--data", data, "faults", "--server-errors", "2", "--status", "503", "--path", "/pulls")
    assert armed["server_errors"]["remaining"] == 2 and armed["server_errors"]["path"] == "/pulls"
    assert run_cli("--data", data, "faults", "--clear") == {}


def fails(*args: str) -> str:
    """The one error line of a failing `aither local-github` command (run under `aither`, as people do)."""
    result = CliRunner().invoke(aither_main, ["local-github", *args])
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


def aither(*args: str) -> dict:
    result = CliRunner().invoke(aither_main, ["local-github", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_store_errors_are_one_line_naming_the_command_and_exit_1(tmp_path: Path) -> None:
    data = str(tmp_path / "gh")
    run_cli("--data", data, "create-repo", "alice/app")
    run_cli("--data", data, "push", "alice/app", "main", "--file", "a=b")  # an empty repository's first push
    run_cli("--data", data, "push", "alice/app", "f", "--base", "main", "--file", "a=c")
    run_cli("--data", data, "open-pr", "alice/app", "--head", "f", "--title", "x")
    line = fails("--data", data, "open-pr", "alice/app", "--head", "f", "--title", "again")
    assert line.startswith("Error: open-pr (repository alice/app, head 'f', base 'main'): Validation Failed (422)")
    assert "A pull request already exists for alice:f" in line


def test_push_with_base_creates_the_branch_from_base_and_the_pr_follows(tmp_path: Path) -> None:
    data = str(tmp_path / "gh")
    source = write_tree(tmp_path / "src", {"README.md": "# x\n"})
    aither("--data", data, "create-repo", "acme/app", "--from", str(source))
    aither("--data", data, "push", "acme/app", "dev", "--base", "main", "--file", "dev.txt=on dev")
    mine = write_tree(tmp_path / "mine", {"hello.txt": "hello\n"})
    # The group's --data counts under `aither` too (it used to fall back to .aither/local-github).
    pushed = aither("--data", data, "push", "acme/app", "my-change", "--base", "dev", "--author", "alice",
                    "-m", "My change", "--file", f"docs/hello.txt=@{mine / 'hello.txt'}")
    assert pushed["created"] is True
    store = LocalGitHub(data)
    bare = store.repo_bare("acme", "app")
    assert bare.out("rev-parse", f"{pushed['sha']}^") == store.branch_sha("acme", "app", "dev")
    assert bare.out("show", f"{pushed['sha']}:dev.txt") == "on dev"  # from the base, not the default branch
    assert bare.out("log", "-1", "--format=%an <%ae>", pushed["sha"]) == "alice <alice@localhost>"
    pr = aither("--data", data, "open-pr", "acme/app", "--head", "my-change", "--base", "dev", "--title", "Mine",
                "--user", "alice")
    assert (pr["head_sha"], pr["head_ref"], pr["base_ref"]) == (pushed["sha"], "my-change", "dev")
    issue = store.issue_row(store.repo_row("acme", "app"), pr["number"])
    assert store.user_by_id(issue["user_id"])["login"] == "alice"
    again = aither("--data", data, "push", "acme/app", "my-change", "--base", "dev", "--author", "Al <al@x.org>",
                   "--file", "docs/hello.txt=bye")
    assert again["created"] is False
    assert bare.out("log", "-1", "--format=%an <%ae>", again["sha"]) == "Al <al@x.org>"
    assert store.get_pr("acme", "app", pr["number"])["head_sha"] == again["sha"]


def test_push_to_a_missing_branch_without_base_names_the_branch_and_changes_nothing(tmp_path: Path) -> None:
    data = str(tmp_path / "gh")
    aither("--data", data, "create-repo", "acme/app", "--from", str(write_tree(tmp_path / "src", {"a": "a"})))
    line = fails("--data", data, "push", "acme/app", "my-change", "--file", "a=b")
    assert line == ("Error: branch 'my-change' does not exist in acme/app: add --base BRANCH to create it "
                    "from that branch")
    assert "my-change" not in LocalGitHub(data).repo_bare("acme", "app").refs()


def test_every_error_names_what_was_not_found(tmp_path: Path) -> None:
    data = str(tmp_path / "gh")
    empty = str(tmp_path / "nothing-here")
    assert fails("--data", empty, "push", "acme/app", "b", "--base", "main", "--file", "a=b") == (
        f"Error: no local GitHub data in {empty} (no state.sqlite3); give --data DIR "
        "(the demo's is .aither-demo/github)")
    assert not Path(empty).exists()
    aither("--data", data, "create-repo", "acme/app", "--from", str(write_tree(tmp_path / "src", {"a": "a"})))
    where = str(Path(data).resolve())
    assert fails("--data", data, "push", "acme/nope", "b", "--base", "main", "--file", "a=b") == (
        f"Error: repository acme/nope not found in {where}")
    assert fails("--data", data, "push", "acme/app", "b", "--base", "nobase", "--file", "a=b") == (
        "Error: base branch 'nobase' not found in acme/app")
    assert fails("--data", data, "open-pr", "acme/app", "--head", "nohead", "--title", "t").startswith(
        "Error: head branch 'nohead' not found in acme/app")
    assert fails("--data", data, "open-pr", "acme/app", "--head", "main", "--base", "nobase", "--title", "t") == (
        "Error: base branch 'nobase' not found in acme/app")
    for command in (["close"], ["merge"], ["draft"]):
        assert fails("--data", data, *command, "acme/app", "7") == "Error: pull request #7 not found in acme/app"
    assert fails("--data", data, "label", "acme/app", "7", "bug") == "Error: pull request #7 not found in acme/app"
    assert fails("--data", data, "fork", "acme/nope", "bob") == f"Error: repository acme/nope not found in {where}"
    assert fails("--data", data, "create-hook", "acme/nope", "--url", "http://127.0.0.1:9/h") == (
        f"Error: repository acme/nope not found in {where}")
