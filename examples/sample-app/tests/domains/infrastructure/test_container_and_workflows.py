"""Domain: infrastructure. The Dockerfile, compose file and workflows agree with the code."""

import importlib.util
import json
import re

from app.config import DEFAULT_PORT


def _instructions(repo_root):
    """Dockerfile instructions as (KEYWORD, arguments), continuation lines joined."""
    text = (repo_root / "Dockerfile").read_text()
    text = re.sub(r"\\\n\s*", " ", text)
    lines = [line.strip() for line in text.splitlines()]
    return [tuple(line.split(None, 1)) for line in lines if line and not line.startswith("#")]


def _values(instructions, keyword):
    return [args for key, args in instructions if key.upper() == keyword]


def test_dockerfile_base_image_is_a_build_argument(repo_root):
    instructions = _instructions(repo_root)
    assert instructions[0] == ("ARG", "BASE_IMAGE=aither/python-base:3.11-bookworm")
    assert _values(instructions, "FROM") == ["${BASE_IMAGE}"]


def test_dockerfile_exposes_the_port_the_app_listens_on(repo_root):
    instructions = _instructions(repo_root)
    assert _values(instructions, "EXPOSE") == [str(DEFAULT_PORT)]
    env = " ".join(_values(instructions, "ENV"))
    assert f"PORT={DEFAULT_PORT}" in env


def test_dockerfile_runs_the_app_as_non_root_in_exec_form(repo_root):
    instructions = _instructions(repo_root)
    assert json.loads(_values(instructions, "CMD")[-1]) == ["python3", "-m", "app"]
    user = _values(instructions, "USER")[-1]
    assert user not in ("root", "0")
    assert not _values(instructions, "RUN"), "the base image has no shell: nothing may be RUN"


def test_healthcheck_module_exists(repo_root):
    healthcheck = _values(_instructions(repo_root), "HEALTHCHECK")[-1]
    command = json.loads(healthcheck.split("CMD", 1)[1])
    assert command[:2] == ["python3", "-m"]
    assert importlib.util.find_spec(command[2]) is not None


def test_build_context_keeps_tests_out(repo_root):
    ignore = (repo_root / ".dockerignore").read_text().split()
    assert ignore[ignore.index("*") + 1 :].count("!app/") == 1
    copies = _values(_instructions(repo_root), "COPY")
    assert copies == ["app/ /srv/app/"]


def test_compose_publishes_the_container_port(repo_root):
    text = (repo_root / "compose.yaml").read_text()
    ports = re.findall(r'-\s*"(?:[\d.]+:)?(\d+):(\d+)"', text)
    assert ports, "no port mapping in compose.yaml"
    assert all(int(container) == DEFAULT_PORT for _, container in ports)
    assert "read_only: true" in text


def test_workflow_scripts_exist_and_are_executable(repo_root):
    workflows = sorted((repo_root / ".github" / "workflows").glob("*.yml"))
    assert workflows
    scripts = set()
    for workflow in workflows:
        scripts |= set(re.findall(r"\b(scripts/[\w.-]+)", workflow.read_text()))
    assert scripts, "expected the deploy workflow to run scripts/smoke.sh"
    for script in scripts:
        path = repo_root / script
        assert path.is_file(), f"{script} is referenced by a workflow but missing"
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
