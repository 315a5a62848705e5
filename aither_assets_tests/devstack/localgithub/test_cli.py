"""`python -m aither_assets.devstack.localgithub`: the foreground server and the state subcommands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

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
    pushed = run_cli("push", "alice/app", "feature", "--data", data, "--from", str(patch),
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
    run_cli("--data", data, "push", "alice/app", "other", "--file", "o.txt=o")
    run_cli("--data", data, "open-pr", "alice/app", "--head", "other", "--title", "Other")
    assert run_cli("--data", data, "close", "alice/app", "2")["state"] == "closed"
    armed = run_cli("--data", data, "faults", "--server-errors", "2", "--status", "503", "--path", "/pulls")
    assert armed["server_errors"]["remaining"] == 2 and armed["server_errors"]["path"] == "/pulls"
    assert run_cli("--data", data, "faults", "--clear") == {}


def test_subcommand_errors_are_github_shaped_and_exit_1(tmp_path: Path) -> None:
    data = str(tmp_path / "gh")
    run_cli("--data", data, "create-repo", "alice/app")
    result = CliRunner().invoke(local_github, ["--data", data, "open-pr", "alice/app", "--head", "nope",
                                               "--title", "x"])
    assert result.exit_code == 1 and '"Validation Failed"' in result.output
