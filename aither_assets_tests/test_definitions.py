"""The Dagster definitions load, and `dg check defs` passes as it does in CI."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from aither_assets.definitions import defs

ROOT = Path(__file__).resolve().parents[1]


def test_definitions_hold_the_pr_pipeline():
    definitions = defs()
    job = definitions.resolve_job_def("pr_pipeline")
    assert job.partitions_def.name == "aither_pull_requests"
    assert dg.AssetKey("pr_context") in definitions.resolve_asset_graph().get_all_asset_keys()
    sensor = definitions.resolve_sensor_def("pull_request_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


def test_dg_check_defs_passes():
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "AITHER_CONFIG": "unused.yaml"}
    proc = subprocess.run(["dg", "check", "defs"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert "All definitions loaded successfully" in proc.stdout + proc.stderr
