"""The pipeline's call sites through the sandbox: linters, policy errors, cancellation, the sweep of leftovers."""

from __future__ import annotations

import threading
import time

import docker
import pytest

from aither_assets.config.pipeline import LinterConfig
from aither_assets.quality.linters import run_linters
from aither_assets.runtime import cancellation
from aither_assets.sandbox.runner import CREATED_LABEL, LABEL, RUN_LABEL
from aither_assets.sandbox.sweep import sweep
from aither_assets.suites.plan import Suite
from aither_assets.suites.runner import run_suite

from ..suites.helpers import PYTEST_INI, copy_sample, write_tree
from .conftest import leftovers
from .test_hostile import PYTEST

pytestmark = pytest.mark.docker

RUFF = LinterConfig(name="ruff", command=["ruff", "check", "--no-cache", "--output-format=json", "--exit-zero", "."],
                    format="ruff-json")


def test_ruff_in_the_sandbox_finds_what_it_finds_on_the_host(sandbox, tmp_path):
    root = write_tree(copy_sample(tmp_path / "repo"), {"app/extra.py": "import os\n\n\ndef f(x=[]):\n    return y\n"})
    boxed = run_linters((RUFF,), root, sandbox=sandbox)
    host = run_linters((RUFF,), root)
    assert boxed.linters["ruff"].status == "findings", boxed.linters["ruff"]
    key = [(f.file, f.line, f.rule) for f in boxed.findings]
    assert key == [(f.file, f.line, f.rule) for f in host.findings]
    assert ("app/extra.py", 1, "F401") in key  # paths relative to the copy, as on the host
    assert leftovers(sandbox.run_id) == []


def test_a_runner_image_the_operator_does_not_list_is_refused_with_field_and_value(sandbox, tmp_path):
    root = write_tree(tmp_path / "repo", {"pytest.ini": PYTEST_INI, "tests/test_a.py": "def test_a():\n    pass\n"})
    suite = Suite("unit", "0000-0099", ("tests/test_a.py",), PYTEST, 30, "evil/runner:latest")
    result = run_suite(suite, root, tmp_path / "out", sandbox=sandbox)
    assert result.status == "error"
    assert result.message.startswith(".aither/pipeline.yaml: tests.runner_image: runner image is not allowed")
    assert result.message.endswith("(got 'evil/runner:latest')")
    linter = LinterConfig(name="ruff", command=["ruff", "check", "."], format="ruff-json", runner_image="evil/r:1")
    status = run_linters((linter,), root, sandbox=sandbox).linters["ruff"]
    assert status.status == "error" and "linters (ruff).runner_image" in status.message


def test_cancelling_the_run_removes_the_container(sandbox, tmp_path):
    root = write_tree(tmp_path / "repo", {"pytest.ini": PYTEST_INI,
                                          "tests/test_a.py": "import time\n\ndef test_a():\n    time.sleep(120)\n"})
    suite = Suite("unit", "0000-0099", ("tests/test_a.py",), PYTEST, 100)
    outcome: list[object] = []

    def run():
        try:
            outcome.append(run_suite(suite, root, tmp_path / "out", sandbox=sandbox))
        except cancellation.Cancelled as exc:
            outcome.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    try:
        deadline = time.monotonic() + 30
        while not leftovers(sandbox.run_id) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert leftovers(sandbox.run_id), "the suite's container never started"
        cancellation.request()
        worker.join(30)
    finally:
        cancellation.reset()
    assert isinstance(outcome[0], cancellation.Cancelled)
    assert leftovers(sandbox.run_id) == []


def test_the_sweep_removes_containers_of_runs_that_are_over(runner_image):
    api = docker.APIClient(version="auto")
    made = {}
    try:
        for run, age in (("sweep-over", 5), ("sweep-live", 5), ("sweep-ancient", 99_999)):
            made[run] = api.create_container(
                runner_image, command=["true"], labels={LABEL: "1", RUN_LABEL: run,
                                                        CREATED_LABEL: str(int(time.time() - age))})["Id"]
        removed = sweep(run_active=lambda run: run != "sweep-over")
        assert made["sweep-over"] in removed and made["sweep-ancient"] in removed
        assert made["sweep-live"] not in removed
        assert leftovers("sweep-live") == [made["sweep-live"]]
    finally:
        for cid in made.values():
            try:
                api.remove_container(cid, force=True)
            except docker.errors.NotFound:
                pass
        api.close()


def test_a_listed_image_the_engine_lacks_is_a_clear_error(runner_image, tmp_path):
    from aither_assets.config.operator import DEFAULT_RUNNER_IMAGE, SandboxConfig
    from aither_assets.sandbox.runner import Sandbox

    root = write_tree(tmp_path / "repo", {"pytest.ini": PYTEST_INI, "tests/test_a.py": "def test_a():\n    pass\n"})
    config = SandboxConfig(runner_images=(DEFAULT_RUNNER_IMAGE, "aither/no-such-runner:0"))
    with Sandbox(config, "test-missing-image") as box:
        suite = Suite("unit", "0000-0099", ("tests/test_a.py",), PYTEST, 30, "aither/no-such-runner:0")
        result = run_suite(suite, root, tmp_path / "out", sandbox=box)
    assert result.status == "error"
    assert result.message.startswith("runner image 'aither/no-such-runner:0' is not on the Docker engine")
