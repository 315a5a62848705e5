"""The real sample repository, its suites run as the pipeline runs them, in sandbox containers.

Every suite passes (the integration suite starts the service on the container's loopback and
calls it); the broken-test variant fails exactly one test.
"""

from __future__ import annotations

import pytest

from aither_assets.config.operator import SandboxConfig
from aither_assets.config.pipeline import load_pipeline_config
from aither_assets.sandbox.runner import Sandbox
from aither_assets.suites.markdown import failures_table, suites_table
from aither_assets.suites.plan import plan_suites
from aither_assets.suites.runner import run_suites

from .helpers import copy_sample

pytestmark = pytest.mark.docker

BROKEN = "tests/unit/0105_test_handlers.py::test_wrong_method_is_405_with_allow_header"
#: Test cases in the sample app, all suites together.
SAMPLE_TESTS = 120


@pytest.fixture(scope="module")
def sandbox(docker_engine):
    from aither_assets.devstack.runnerimage import ensure_runner_image

    ensure_runner_image()
    with Sandbox(SandboxConfig(), "test-sample-app") as box:  # the operator defaults
        yield box


def run_sample(tmp_path, sandbox, variant=None):
    root = copy_sample(tmp_path / "repo", variant)
    plan = plan_suites(load_pipeline_config(root).tests, root)
    assert plan.uncovered == () and plan.empty == ()
    return plan, run_suites(plan.suites, root, tmp_path / "out", sandbox=sandbox)


def test_every_sample_suite_passes(tmp_path, sandbox):
    plan, results = run_sample(tmp_path, sandbox)
    assert [r.key for r in results] == [s.key for s in plan.suites]
    assert len(results) == 7
    for result in results:
        assert result.status == "passed", (result.key, result.message, result.stdout_tail)
        assert result.report is not None and result.report.tests > 0
        assert result.report.passed == result.report.tests - result.report.skipped
        assert result.exit_code == 0
    # the unit files' cases are traced back to their files
    handlers = next(r for r in results if r.name == "0100-0199")
    assert {c.file for c in handlers.report.cases} == set(plan.suite("0100-0199").files)
    assert failures_table(results) == ""
    assert "| 0100\\-0199 | unit | ✅ passed |" in suites_table(results)
    assert sum(r.report.tests for r in results) == SAMPLE_TESTS
    integration = next(r for r in results if r.kind == "integration")
    assert integration.report.passed > 0 and integration.stopped is None
    assert all(r.argv[r.argv.index("-q") + 1].startswith("--junitxml=/work/.aither/results/") for r in results)


def test_broken_test_variant_fails_exactly_one_test_in_0100_0199(tmp_path, sandbox):
    _, results = run_sample(tmp_path, sandbox, "broken-test")
    failing = {r.name: r.failures() for r in results if r.status != "passed"}
    assert list(failing) == ["0100-0199"], {r.name: (r.status, r.message) for r in results}
    [(test, message)] = failing["0100-0199"]
    assert test == BROKEN
    assert "assert 404 == 405" in message
    suite = next(r for r in results if r.name == "0100-0199")
    assert suite.report.failed == 1 and suite.report.errors == 0
    assert suite.report.passed == suite.report.tests - 1
    table = failures_table(results)
    assert "test\\_wrong\\_method\\_is\\_405\\_with\\_allow\\_header" in table
    assert "assert 404 \\=\\= 405" in table or "assert 404 == 405" in table
