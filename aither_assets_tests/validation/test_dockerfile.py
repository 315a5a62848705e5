"""hadolint on the Dockerfile the config names (or ./Dockerfile), and what happens when it cannot run."""

import os
import stat
import sys

from aither_assets_tests.validation.helpers import (
    MINIMAL_CONFIG,
    of_rule,
    repo,
    validate,
    where,
    write_files,
)

BAD_DOCKERFILE = "FROM ubuntu:latest\nRUN apt-get install -y curl\nMAINTAINER someone\n"
GOOD_DOCKERFILE = 'FROM python:3.11-slim-bookworm\nCOPY app/ /srv/app/\nUSER 10001\nCMD ["python3", "-m", "app"]\n'


def _hadolint(report):
    return [f for f in report.findings if f.tool == "hadolint"]


def test_hadolint_findings_are_mapped(tmp_path):
    repo(tmp_path, {"Dockerfile": BAD_DOCKERFILE})
    report = validate(tmp_path, hadolint="hadolint")
    assert where(_hadolint(report)) == {
        ("Dockerfile", 1, "DL3007", "warning"),
        ("Dockerfile", 2, "DL3008", "warning"),
        ("Dockerfile", 2, "DL3015", "info"),
        ("Dockerfile", 3, "DL4000", "error"),
    }
    assert report.tools["hadolint"].startswith("Haskell Dockerfile Linter")


def test_clean_dockerfile_has_no_finding(tmp_path):
    repo(tmp_path, {"Dockerfile": GOOD_DOCKERFILE})
    assert _hadolint(validate(tmp_path, hadolint="hadolint")) == []


def test_config_names_the_dockerfile(tmp_path):
    config = MINIMAL_CONFIG + "docker:\n  dockerfile: docker/App.Dockerfile\n"
    write_files(tmp_path, {".aither/pipeline.yaml": config, "docker/App.Dockerfile": BAD_DOCKERFILE,
                           "Dockerfile": GOOD_DOCKERFILE})
    assert {f.file for f in _hadolint(validate(tmp_path, hadolint="hadolint"))} == {"docker/App.Dockerfile"}


def test_config_naming_a_missing_dockerfile(tmp_path):
    config = MINIMAL_CONFIG + "docker:\n  dockerfile: docker/Gone\n"
    write_files(tmp_path, {".aither/pipeline.yaml": config})
    found = of_rule(validate(tmp_path), "dockerfile-missing")
    assert where(found) == {(".aither/pipeline.yaml", 8, "dockerfile-missing", "error")}


def test_missing_hadolint_is_a_tool_error_not_an_exception(tmp_path):
    repo(tmp_path, {"Dockerfile": GOOD_DOCKERFILE})
    report = validate(tmp_path, hadolint="hadolint-that-is-not-installed")
    found = of_rule(report, "tool-error")
    assert where(found) == {("Dockerfile", None, "tool-error", "error")}
    assert "hadolint" in found[0].message and "not found" in found[0].message
    assert report.tools["hadolint"].startswith("not available:")


def _fake_tool(path, body):
    path.write_text(f"#!{sys.executable}\nimport sys, os, json\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_crashing_hadolint_is_a_tool_error_with_stderr_tail(tmp_path):
    fake = _fake_tool(tmp_path / "hadolint", "if sys.argv[1:] == ['--version']:\n    print('fake 1.0'); sys.exit(0)\n"
                                              "sys.stderr.write('line one\\nsegfault in parser\\n'); sys.exit(3)")
    root = repo(tmp_path / "r", {"Dockerfile": GOOD_DOCKERFILE})
    found = of_rule(validate(root, hadolint=fake), "tool-error")
    assert where(found) == {("Dockerfile", None, "tool-error", "error")}
    assert "exit 3" in found[0].message and "segfault in parser" in found[0].message


def test_tools_get_a_minimal_environment_and_the_checkout_as_cwd(tmp_path, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    dump = tmp_path / "env.json"
    fake = _fake_tool(tmp_path / "hadolint",
                      "if sys.argv[1:] == ['--version']:\n    print('fake 1.0'); sys.exit(0)\n"
                      f"open({str(dump)!r}, 'w').write(json.dumps({{'env': dict(os.environ), 'cwd': os.getcwd(), 'argv': sys.argv[1:]}}))\n"
                      "print('[]')")
    root = repo(tmp_path / "r", {"Dockerfile": GOOD_DOCKERFILE})
    assert of_rule(validate(root, hadolint=fake), "tool-error") == []
    import json

    seen = json.loads(dump.read_text())
    assert set(seen["env"]) <= {"PATH", "HOME", "TMPDIR", "LANG", "LC_CTYPE", "PYTHONDONTWRITEBYTECODE"}
    assert "ghp_secret" not in json.dumps(seen["env"]) and os.environ["HOME"] != seen["env"]["HOME"]
    assert seen["cwd"] == str(root.resolve())
    assert seen["argv"] == ["--format", "json", "--no-fail", "--", "Dockerfile"]


def test_hanging_tool_times_out_as_tool_error(tmp_path):
    fake = _fake_tool(tmp_path / "hadolint", "if sys.argv[1:] == ['--version']:\n    print('fake 1.0'); sys.exit(0)\n"
                                              "import time; time.sleep(30)")
    root = repo(tmp_path / "r", {"Dockerfile": GOOD_DOCKERFILE})
    found = of_rule(validate(root, hadolint=fake, timeout=1), "tool-error")
    assert len(found) == 1 and "timed out" in found[0].message


def test_disabled_hadolint_is_noted_not_silent(tmp_path):
    repo(tmp_path, {"Dockerfile": GOOD_DOCKERFILE})
    report = validate(tmp_path)
    assert where(of_rule(report, "tool-skipped")) == {("Dockerfile", None, "tool-skipped", "info")}
    assert report.tools["hadolint"] == "not available: disabled by the caller"
