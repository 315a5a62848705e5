"""Domain: configuration. The settings a deployment passes in, and the repo's own config."""

import os
import re
import subprocess
import sys

import pytest

from app.config import DEFAULT_PORT, load_settings

APP_VARIABLES = {"PORT", "HOST", "APP_ENV", "LOG_LEVEL", "MAX_ITEMS", "PR_NUMBER", "PR_TITLE", "COMMIT_SHA", "BASE_REF"}


def _without_app_settings(environ):
    return {key: value for key, value in environ.items() if key not in APP_VARIABLES}


def _pipeline_port(repo_root):
    text = (repo_root / ".aither" / "pipeline.yaml").read_text()
    match = re.search(r"^app:\s*\n(?:[ \t]+.*\n)*?[ \t]+port:\s*(\d+)", text, re.M)
    assert match, "app.port not found in .aither/pipeline.yaml"
    return int(match[1])


def test_pipeline_config_port_is_the_service_default(repo_root):
    assert _pipeline_port(repo_root) == DEFAULT_PORT


def test_pipeline_config_runs_every_test_folder(repo_root):
    text = (repo_root / ".aither" / "pipeline.yaml").read_text()
    folders = sorted(p.relative_to(repo_root).as_posix() for p in (repo_root / "tests").glob("*/*") if p.is_dir())
    suites = [f for f in folders if f.startswith("tests/domains/")] + ["tests/unit", "tests/integration"]
    for folder in suites:
        assert folder in text, f"{folder} is not run by any suite in .aither/pipeline.yaml"


def test_preview_environment_as_the_pipeline_sets_it():
    settings = load_settings(
        {"PORT": "8000", "APP_ENV": "pr-1234", "PR_NUMBER": "1234", "COMMIT_SHA": "a" * 40, "BASE_REF": "dev-staging"}
    )
    assert (settings.port, settings.app_env, settings.pr_number) == (8000, "pr-1234", "1234")
    assert settings.base_ref == "dev-staging"


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"PORT": "http"}, "PORT"), ({"MAX_ITEMS": "0"}, "MAX_ITEMS"), ({"APP_ENV": "../etc"}, "APP_ENV")],
)
def test_service_refuses_to_start_with_bad_settings(repo_root, env, variable):
    result = subprocess.run(
        [sys.executable, "-m", "app"],
        cwd=repo_root,
        env={**_without_app_settings(os.environ), **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert f"configuration error: {variable}" in result.stderr
