"""`aither demo --once`: the whole product on its embedded stack, on the real path (sensor, daemon, runs)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from aither_assets.demo.seed import HOSTILE_TITLE

pytestmark = pytest.mark.skipif(shutil.which("docker-registry") is None, reason="docker-registry is not installed")


def test_demo_once_processes_every_sample_pr(tmp_path):
    summary_file = tmp_path / "summary.json"
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "aither"), "demo", "--once", "--data", str(tmp_path / "demo"),
         "--json", str(summary_file), "--timeout", "600"],
        capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    prs = {p["title"]: p for p in json.loads(summary_file.read_text())["prs"]}
    assert len(prs) >= 8

    ran = [p for p in prs.values() if p["run_status"]]
    for pr in ran:
        context = pr["assets"]["pr_context"]
        assert context["status"] == "MATERIALIZED"
        assert context["metadata"]["head_sha"] == pr["head_sha"]
    rings = {p["base"]: p["ring"] for p in prs.values()}
    assert rings["dev"] == "dev" and rings["dev-staging"] == "staging"
    assert rings["ring-0-canary"] == "ring-0" and rings["main"] == "production"

    assert prs["WIP: new storage backend"]["skipped_reason"].startswith("draft PR")
    assert "ok-to-test" in prs["Outside contribution (fork-unapproved)"]["skipped_reason"]
    assert prs["Outside contribution (fork-approved)"]["run_status"] == "SUCCESS"
    hostile = prs[HOSTILE_TITLE]
    assert hostile["run_status"] == "SUCCESS"
    assert hostile["assets"]["pr_context"]["metadata"]["title"] == HOSTILE_TITLE
    assert not Path("/tmp/aither-pwned").exists()

    # Nothing left running: no process of ours still holds the data folder.
    leftover = subprocess.run(["pgrep", "-f", str(tmp_path / "demo")], capture_output=True, text=True)
    assert leftover.stdout.strip() == ""
