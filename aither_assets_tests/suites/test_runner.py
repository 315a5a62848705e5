"""run_suites with real subprocesses: reports, timeouts, crashes, parallelism, environment."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from aither_assets.config.pipeline import NamedSuite, UnitTests
from aither_assets.suites.plan import Suite, plan_suites
from aither_assets.suites.runner import expand_argv, run_suites

from .helpers import PYTEST, VENV_BIN, pytest_repo, suite_config, wait_dead

# A fake suite command: sleeps, then writes a one-case JUnit report and a coverage report.
SLEEP_AND_REPORT = """
import sys, time
time.sleep(float(sys.argv[1]))
open(sys.argv[2], "w").write('<testsuite><testcase name="slept" classname="fake"/></testsuite>')
open(sys.argv[3], "w").write('<coverage line-rate="0.75"/>')
"""


def fake_suite(name: str, script: str, *args: str, timeout: float = 30, kind="domain") -> Suite:
    return Suite(kind, name, ("tests/placeholder.py",), ("python", "-c", script, *args), timeout)


def test_expand_argv():
    values = {"junit": "/out/u.xml", "coverage": "/out/u.cov.xml", "workspace": "/ws"}
    argv = expand_argv(["python", "-m", "pytest", "--junitxml={junit}", "--cov-report=xml:{coverage}",
                        "--rootdir={workspace}", "{files}", "--", "{{literal}}"], values, ["a.py", "b c.py", "-k.py"])
    assert argv == ["python", "-m", "pytest", "--junitxml=/out/u.xml", "--cov-report=xml:/out/u.cov.xml",
                    "--rootdir=/ws", "a.py", "b c.py", "./-k.py", "--", "{literal}"]
    with pytest.raises(ValueError, match="whole argument"):
        expand_argv(["--x={files}"], values, ["a.py"])
    with pytest.raises(ValueError, match="unknown placeholder"):
        expand_argv(["{junit.__class__}"], values)
    with pytest.raises(ValueError, match="unknown placeholder"):
        expand_argv(["{junit!r}"], values)


def test_suites_run_with_real_pytest_and_failures_are_named(tmp_path):
    repo = pytest_repo(tmp_path / "repo", {
        "tests/unit/0001_test_ok.py": """
            def test_one():
                assert 1 + 1 == 2

            def test_two():
                pass
            """,
        "tests/unit/0150_test_bad.py": """
            import pytest

            def test_good():
                pass

            def test_bad():
                assert 404 == 405

            @pytest.mark.skip(reason="later")
            def test_skipped():
                pass
            """,
        "tests/domains/security/test_sec.py": "def test_sec():\n    pass\n",
    })
    config = suite_config(
        unit=UnitTests(paths=("tests/unit",), ranges=("0000-0099", "0100-0199", "0200-0299")),
        domains=(NamedSuite(name="security", paths=("tests/domains/security",)),),
    )
    plan = plan_suites(config, repo)
    results = {r.name: r for r in run_suites(plan.suites, repo, tmp_path / "out", max_workers=4)}

    ok = results["0000-0099"]
    assert ok.status == "passed" and ok.exit_code == 0 and ok.message is None
    assert (ok.report.tests, ok.report.passed) == (2, 2)
    assert ok.junit_path == str(tmp_path / "out" / "unit-0000-0099.xml")
    assert ok.coverage_percent is None  # the command asks for no coverage

    bad = results["0100-0199"]
    assert bad.status == "failed" and bad.exit_code == 1
    assert (bad.report.tests, bad.report.passed, bad.report.failed, bad.report.skipped) == (3, 1, 1, 1)
    [(test, message)] = bad.failures()
    assert test == "tests/unit/0150_test_bad.py::test_bad"
    assert "assert 404 == 405" in message

    assert results["0200-0299"].status == "empty" and results["0200-0299"].report is None
    assert results["0200-0299"].exit_code is None
    assert results["security"].status == "passed"

    data = bad.to_json()
    json.dumps(data)
    assert data["failed"] == 1 and data["failures"][0]["test"] == test


def test_suite_that_hangs_is_killed_with_its_process_group(tmp_path):
    repo = pytest_repo(tmp_path / "repo", {
        "tests/test_hang.py": """
            import os, pathlib, subprocess, sys, time

            def test_hang():
                child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
                pathlib.Path(os.environ["PIDFILE"]).write_text(f"{os.getpid()} {child.pid}")
                print("started child", flush=True)
                time.sleep(60)
            """,
    })
    pidfile = tmp_path / "pids"
    argv = ("python", "-m", "pytest", "-q", "-s", "--junitxml={junit}", "{files}")  # -s: no output capture
    suite = Suite("integration", "hang", ("tests/test_hang.py",), argv, 2)
    started = time.monotonic()
    [result] = run_suites([suite], repo, tmp_path / "out", env={"PIDFILE": str(pidfile)})
    elapsed = time.monotonic() - started
    assert result.status == "timeout"
    assert result.report is None and result.exit_code is None
    assert 1.9 <= result.duration_seconds < 6 and elapsed < 8
    assert "timed out after 2 s" in result.message
    assert "started child" in result.stdout_tail
    pids = [int(p) for p in pidfile.read_text().split()]
    assert len(pids) == 2
    assert wait_dead(pids) == [], "processes of the timed-out suite are still running"


def test_suite_that_crashes_without_junit_is_an_error_without_counts(tmp_path):
    crash = "import sys; sys.stderr.write('ImportError: conftest exploded\\n'); sys.exit(2)"
    [result] = run_suites([fake_suite("crash", crash, "{junit}")], tmp_path, tmp_path / "out")
    assert result.status == "error"
    assert result.report is None
    assert result.exit_code == 2
    assert result.message.startswith("suite exited 2 without writing JUnit XML: ")
    assert "conftest exploded" in result.message and "conftest exploded" in result.stderr_tail
    data = result.to_json()
    assert [data[k] for k in ("tests", "passed", "failed", "errors", "skipped")] == [None] * 5


def test_unreadable_report_stale_report_and_missing_executable(tmp_path):
    out = tmp_path / "out"
    garbage = "import sys; open(sys.argv[1], 'w').write('<testsuite><testcase')"
    [bad] = run_suites([fake_suite("garbage", garbage, "{junit}")], tmp_path, out)
    assert bad.status == "error" and bad.report is None
    assert "domain-garbage.xml" in bad.message and "not well-formed" in bad.message

    # a report left by an earlier run is not read as this run's result
    (out / "domain-stale.xml").write_text('<testsuite><testcase name="old"/></testsuite>')
    [stale] = run_suites([fake_suite("stale", "pass", "{junit}")], tmp_path, out)
    assert stale.status == "error" and stale.report is None and "without writing JUnit XML" in stale.message

    missing = Suite("unit", "0000-0099", ("t.py",), ("no-such-runner-xyz", "{junit}", "{files}"), 5)
    [result] = run_suites([missing], tmp_path, out)
    assert result.status == "error" and result.report is None and "no-such-runner-xyz" in result.message

    no_report = Suite("unit", "0000-0099", ("t.py",), ("python", "-c", "pass", "{files}"), 5)
    [result] = run_suites([no_report], tmp_path, out)
    assert result.status == "error" and "{junit}" in result.message


def test_suites_run_in_parallel_and_coverage_is_read(tmp_path):
    suites = [fake_suite(name, SLEEP_AND_REPORT, "1.5", "{junit}", "{coverage}") for name in ("one", "two")]
    started = time.monotonic()
    results = run_suites(suites, tmp_path, tmp_path / "out", max_workers=2)
    elapsed = time.monotonic() - started
    assert [r.status for r in results] == ["passed", "passed"]
    assert [r.name for r in results] == ["one", "two"]
    assert all(r.coverage_percent == 75.0 for r in results)
    assert all(r.duration_seconds >= 1.5 for r in results)
    assert elapsed < 2.8, f"two 1.5 s suites took {elapsed:.2f} s with max_workers=2: not run in parallel"


def test_environment_is_minimal_and_secrets_do_not_leak(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake_secret_token")
    monkeypatch.setenv("AITHER_GITHUB_TOKEN", "another-secret")
    monkeypatch.setenv("PYTEST_ADDOPTS", "-x --this-would-break")
    dump = tmp_path / "env.json"
    repo = pytest_repo(tmp_path / "repo", {
        "tests/test_env.py": """
            import json, os, pathlib, sys, tempfile

            def test_env():
                pathlib.Path(os.environ["ENV_DUMP"]).write_text(json.dumps(
                    {"env": dict(os.environ), "executable": sys.executable, "tempdir": tempfile.gettempdir()}))
                assert "GITHUB_TOKEN" not in os.environ
                assert not [k for k in os.environ if k.startswith("AITHER_")]
            """,
    })
    suite = Suite("domain", "security", ("tests/test_env.py",), tuple(PYTEST), 60)
    [result] = run_suites([suite], repo, tmp_path / "out", env={"ENV_DUMP": str(dump)})
    assert result.status == "passed", result.message
    seen = json.loads(dump.read_text())
    env = seen["env"]
    assert "ghp_fake_secret_token" not in json.dumps(env)
    assert not {"GITHUB_TOKEN", "AITHER_GITHUB_TOKEN", "PYTEST_ADDOPTS"} & set(env)
    allowed = {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONDONTWRITEBYTECODE", "ENV_DUMP"}
    assert {k for k in env if not k.startswith("PYTEST_")} == allowed  # pytest adds PYTEST_CURRENT_TEST itself
    assert env["PATH"].split(":")[0] == VENV_BIN
    assert Path(seen["executable"]).parent == Path(VENV_BIN)  # `python` is the runner's interpreter
    assert env["LANG"] == "C.UTF-8" and env["PYTHONDONTWRITEBYTECODE"] == "1"
    assert env["HOME"] != str(Path.home()) and not Path(env["HOME"]).exists()  # fresh, and removed afterwards
    assert seen["tempdir"] == env["TMPDIR"] and env["TMPDIR"] != env["HOME"]
