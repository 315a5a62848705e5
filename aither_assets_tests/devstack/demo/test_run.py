"""`aither demo`'s first-contact parts: what it tells a newcomer to try, and --teardown of its previews."""

from __future__ import annotations

import json
import shlex
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from aither_assets.cli import main as aither_main
from aither_assets.devstack.baseimage import build_python_base
from aither_assets.devstack.demo.run import (
    TRY_BASE,
    TRY_BRANCH,
    aither_command,
    left_running_message,
    try_lines,
    write_operator_config,
    write_try_file,
)
from aither_assets.devstack.demo.seed import seed
from aither_assets.devstack.localgithub.store import LocalGitHub
from aither_assets.environments.docker_env import APP_LABEL, PR_LABEL


def seeded_demo(data_dir: Path):
    store = LocalGitHub(data_dir / "github")
    try:
        return seed(store)
    finally:
        store.close()


def test_try_lines_give_the_graph_the_dashboard_and_two_commands_that_open_a_pr(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo data"  # a space: the commands must quote it
    seeded = seeded_demo(data_dir)
    try_file = write_try_file(data_dir)
    lines = try_lines("http://127.0.0.1:3000", "http://127.0.0.1:8080", data_dir, seeded, try_file)
    assert lines[1] == "  1. the pr_pipeline asset graph:  http://127.0.0.1:3000/locations/aither_assets/jobs/pr_pipeline"
    first = next(p for p in seeded.prs if p.should_run and not p.expect_failure)
    assert lines[2].endswith(f"http://127.0.0.1:8080/pr-{first.number}/")
    push, open_pr = (shlex.split(line) for line in lines[4:6])
    assert push[0] == open_pr[0] == shlex.split(aither_command())[0]
    for argv in (push, open_pr):  # exactly as printed, minus the executable
        result = CliRunner().invoke(aither_main, argv[1:], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    pr = json.loads(result.output)
    store = LocalGitHub(data_dir / "github")
    owner, name = seeded.repository.split("/")
    assert (pr["head_ref"], pr["base_ref"], pr["state"]) == (TRY_BRANCH, TRY_BASE, "open")
    assert pr["head_sha"] == store.branch_sha(owner, name, TRY_BRANCH)
    assert store.repo_bare(owner, name).out("show", f"{pr['head_sha']}:app/VERSION") == try_file.read_text().strip()


def test_write_try_file_keeps_an_edited_file(tmp_path: Path) -> None:
    path = write_try_file(tmp_path)
    path.write_text("9.9.9\n")
    assert write_try_file(tmp_path).read_text() == "9.9.9\n"


def _container(app: str, name: str, labels: dict[str, str]) -> str:
    argv = ["docker", "run", "--detach", "--name", name]
    for key, value in {APP_LABEL: app, **labels}.items():
        argv += ["--label", f"{key}={value}"]
    argv += ["aither/python-base:3.11-bookworm", "python3", "-c", "import time; time.sleep(600)"]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def _exists(name: str) -> bool:
    return subprocess.run(["docker", "inspect", name], capture_output=True, check=False).returncode == 0


@pytest.mark.docker
def test_teardown_removes_only_the_demos_preview_containers(tmp_path: Path, docker_engine) -> None:
    build_python_base()
    app = f"aither-demo-test-{uuid.uuid4().hex[:8]}"
    config = write_operator_config(tmp_path, "http://127.0.0.1:1", "127.0.0.1:1", "acme/sample-app", {}, None, None)
    config.write_text(yaml.safe_dump({**yaml.safe_load(config.read_text()), "app_name": app}))
    ours = f"{app}-pr-1"
    not_managed = f"{app}-pr-2"  # same app label but not the deployer's owner label: not ours
    other_app = f"{app}-other-pr-3"
    try:
        _container(app, ours, {"io.aither.managed": "true", PR_LABEL: "1"})
        _container(app, not_managed, {PR_LABEL: "2"})
        _container(f"{app}-other", other_app, {"io.aither.managed": "true", PR_LABEL: "3"})
        message = left_running_message(tmp_path)
        assert message.startswith(f"1 preview container left running ({ours}); remove them with: ")
        assert message.endswith(f"demo --teardown --data {shlex.quote(str(tmp_path))}")

        result = CliRunner().invoke(aither_main, ["demo", "--teardown", "--data", str(tmp_path)],
                                    catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert result.output == f"removed 1 preview container: {ours}\n"
        assert not _exists(ours) and _exists(not_managed) and _exists(other_app)
        assert left_running_message(tmp_path) == "No preview containers left running."
        again = CliRunner().invoke(aither_main, ["demo", "--teardown", "--data", str(tmp_path)])
        assert again.output.startswith("removed 0 preview containers")
    finally:
        subprocess.run(["docker", "rm", "--force", ours, not_managed, other_app], capture_output=True, check=False)
