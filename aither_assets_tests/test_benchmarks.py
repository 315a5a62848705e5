"""`make bench` on a tiny setting: it runs end to end and writes well-formed results (no timing asserted)."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("docker-registry") is None, reason="docker-registry is not installed")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _stats(value) -> bool:
    return isinstance(value, dict) and all(_number(value[k]) for k in ("median", "min", "max", "n"))


def test_benchmarks_write_well_formed_results(tmp_path):
    results_file, markdown = tmp_path / "results.json", tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--rounds", "1", "--quick",
         "--json", str(results_file), "--markdown", str(markdown)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = json.loads(results_file.read_text())

    assert results["machine"]["nproc"] >= 1 and results["machine"]["cpu_model"]
    e2e = results["e2e"]
    assert len(e2e["rounds"]["pipeline"]) == len(e2e["rounds"]["plain"]) == 1
    pipeline, plain = e2e["rounds"]["pipeline"][0], e2e["rounds"]["plain"][0]
    assert pipeline["status"] == "SUCCESS" and plain["run_status"] == "SUCCESS"
    assert not plain["dagster_imported"]  # the baseline really runs without Dagster
    assert pipeline["triggered_by"] in ("webhook", "sensor")
    for key in ("push_to_dashboard", "detection", "detection_request", "run", "run_start_to_dashboard",
                "push_to_feedback_done"):
        assert _number(pipeline[key]) and pipeline[key] >= 0, key
    assert {"pr_context", "test_suites", "container_image", "pr_environment", "smoke_report"} <= set(pipeline["steps"])
    assert {"checkout", "tests", "image", "deploy", "smoke", "dashboard"} <= set(plain["stages"])
    summary = e2e["summary"]
    assert _number(summary["ratio_pipeline_to_plain"]) and summary["ratio_pipeline_to_plain"] > 0
    assert _stats(summary["pipeline"]["push_to_dashboard"]) and _stats(summary["plain"]["total"])
    assert all(_stats(stage["plain"]) and _stats(stage["pipeline_step"]) for stage in summary["stages"].values())

    avoided = e2e["work_avoided"]
    assert avoided["unchanged_poll"]["ticks"] >= 1 and avoided["unchanged_poll"]["runs_started"] == 0
    assert avoided["docs_only"]["image_built"] is False and avoided["docs_only"]["deployed"] is False
    assert avoided["image_cache"]["cold"] and avoided["image_cache"]["warm"]
    assert avoided["image_cache"]["cold"][0]["cached_steps"] == 0

    memory = e2e["memory"]
    assert memory["open_prs"] >= 50
    for role in ("daemon", "code_server", "webserver", "webhook_receiver", "run_launcher", "pipeline_run_worker"):
        assert _number(memory[role]) and memory[role] > 0, role

    sensor = results["sensor"]
    assert [r["open_prs"] for r in sensor] == [100]
    assert sensor[0]["unchanged_poll"]["requests"]["median"] == 1

    # Nothing left behind: no process, container or image of the benchmark.
    assert e2e["left_behind"]["processes"] == [] and e2e["left_behind"]["containers"] == []
    assert not Path(e2e["settings"]["data_dir"]).exists()

    sandbox = results["sandbox"]["commands"]
    assert len(sandbox) == 3 and all(_stats(c["sandbox"]) and _stats(c["setup"]) for c in sandbox.values())

    text = markdown.read_text()
    assert results["validation"]["workflows"] == 30 and results["validation"]["findings"] == []
    for heading in ("## 1. End-to-end", "## 2. Orchestration overhead", "## 3. Sensor cost", "## 4. Work avoided",
                    "## 5. Memory", "## 6. Per-suite cost of the sandbox", "## 7. Validation"):
        assert heading in text
