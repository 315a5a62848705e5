"""run_linters with real subprocesses: ruff on a small repo, crashing/garbled/hanging linters, environment."""

from __future__ import annotations

import json

from aither_assets.config.pipeline import LinterConfig
from aither_assets.quality.linters import run_linters
from aither_assets.quality.markdown import (
    files_table,
    findings_table,
    linters_table,
    severity_table,
)

from ..suites.helpers import SAMPLE, copy_sample, write_tree

RUFF = LinterConfig(name="ruff", command=["ruff", "check", "--no-cache", "--output-format=json", "--exit-zero", "."],
                    format="ruff-json")


def python_linter(name: str, code: str, fmt: str = "ruff-json", **fields) -> LinterConfig:
    return LinterConfig(name=name, command=["python", "-c", code, *fields.pop("args", [])], format=fmt, **fields)


def lint_repo(tmp_path):
    return write_tree(tmp_path / "repo", {
        "pyproject.toml": '[tool.ruff]\nline-length = 100\n[tool.ruff.lint]\nselect = ["E", "F", "W", "B"]\n',
        "app/__init__.py": "",
        "app/mod.py": "import os\n\n\ndef f(x=[]):\n    return undefined_name\n",
        "app/clean.py": "VALUE = 1\n",
        "app/broken.py": "def g(:\n    pass\n",
    })


def test_ruff_on_a_small_repo(tmp_path):
    report = run_linters((RUFF,), lint_repo(tmp_path))
    status = report.linters["ruff"]
    assert status.status == "findings" and status.exit_code == 0 and status.message is None
    got = {(f.file, f.line, f.rule, f.severity) for f in report.findings}
    assert ("app/mod.py", 1, "F401", "warning") in got
    assert ("app/mod.py", 4, "B006", "warning") in got
    assert ("app/mod.py", 5, "F821", "error") in got
    assert any(f.file == "app/broken.py" and f.severity == "error" for f in report.findings)  # syntax error
    assert not any(f.file.startswith("/") for f in report.findings)
    assert report.complete
    counts = report.counts_by_severity
    assert counts["error"] >= 2 and counts["warning"] == 2 and sum(counts.values()) == len(report.findings)
    assert set(report.counts_by_file) == {"app/mod.py", "app/broken.py"}
    assert report.counts_by_file["app/mod.py"] == {"error": 1, "warning": 2, "info": 0}
    assert status.findings == len(report.findings)
    json.dumps(report.to_json())
    assert "app/mod\\.py" in files_table(report) and "F821" in findings_table(report)


def test_sample_repo_is_clean(tmp_path):
    root = copy_sample(tmp_path / "sample")
    from aither_assets.config.pipeline import load_pipeline_config

    report = run_linters(load_pipeline_config(SAMPLE).linters, root)
    assert report.linters["ruff"].status == "clean", report.findings
    assert report.counts_by_severity == {"error": 0, "warning": 0, "info": 0}


def test_crashing_and_garbled_linters_are_errors_not_zero_findings(tmp_path):
    crash = python_linter("crash", "import sys; sys.stderr.write('Traceback: linter exploded\\n'); sys.exit(2)")
    garbled = python_linter("garbled", "print('warning: this is not JSON')")
    quiet_fail = python_linter("quiet-fail", "import sys; print('[]'); sys.exit(3)")
    missing = LinterConfig(name="missing", command=["no-such-linter-xyz", "."], format="sarif")
    bad_sarif = python_linter("bad-sarif", "import json; print(json.dumps(dict(runs=5)))", fmt="sarif")
    report = run_linters((crash, garbled, quiet_fail, missing, bad_sarif), tmp_path)
    assert {name: s.status for name, s in report.linters.items()} == dict.fromkeys(
        ["crash", "garbled", "quiet-fail", "missing", "bad-sarif"], "error")
    assert "linter exploded" in report.linters["crash"].message
    assert report.linters["crash"].exit_code == 2 and report.linters["crash"].findings is None
    assert "not ruff-json" in report.linters["garbled"].message
    assert "exited 3 without reporting any finding" in report.linters["quiet-fail"].message
    assert "no-such-linter-xyz" in report.linters["missing"].message
    assert "no runs" in report.linters["bad-sarif"].message
    assert report.findings == []
    assert report.counts_by_severity is None  # no linter's output was read: no numbers at all
    assert not report.complete
    table = linters_table(report)
    assert table.count("| error |") == 5 and "| — |" in table
    assert severity_table(report).splitlines()[-1] == "| — | — | — |"


def test_one_broken_linter_does_not_hide_the_others(tmp_path):
    crash = python_linter("crash", "raise SystemExit('boom')")
    report = run_linters((RUFF, crash), lint_repo(tmp_path))
    assert report.linters["ruff"].status == "findings" and report.linters["crash"].status == "error"
    assert report.counts_by_severity is not None and not report.complete
    assert {f.linter for f in report.findings} == {"ruff"}


def test_hanging_linter_times_out(tmp_path):
    hang = python_linter("hang", "import time; time.sleep(30)", timeout_seconds=30)
    report = run_linters((hang,), tmp_path, timeout=1)
    status = report.linters["hang"]
    assert status.status == "timeout" and status.exit_code is None and "1 s" in status.message
    assert status.duration_seconds < 5


def test_report_file_placeholder_and_workspace(tmp_path):
    write = (
        "import sys; open(sys.argv[1], 'w').write("
        "'<testsuite name=\"'+sys.argv[2]+'/Dockerfile\"><testcase name=\"DL3007\" line=\"1\">"
        "<failure type=\"warning\">Using latest</failure></testcase></testsuite>')"
    )
    linter = python_linter("hadolint", write, fmt="junit", args=["{junit}", "{workspace}"])
    report = run_linters((linter,), tmp_path)
    assert report.linters["hadolint"].status == "findings"
    [finding] = report.findings
    assert (finding.file, finding.line, finding.rule, finding.severity) == ("Dockerfile", 1, "DL3007", "warning")

    files = python_linter("files", "pass", args=["{files}"])
    assert "not available to linters" in run_linters((files,), tmp_path).linters["files"].message


def test_linters_see_no_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_fake_secret")
    monkeypatch.setenv("AITHER_TOKEN", "secret")
    dump = (
        "import json, os; print(json.dumps([dict(filename='env', code='X1', message=k + '=' + v, "
        "location=dict(row=1, column=1)) for k, v in os.environ.items()]))"  # no braces: they are placeholders
    )
    report = run_linters((python_linter("env", dump),), tmp_path, env={"EXTRA": "given"})
    seen = {f.message.split("=", 1)[0] for f in report.findings}
    assert seen == {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONDONTWRITEBYTECODE", "EXTRA"}
    assert not any("secret" in f.message for f in report.findings)
