import shutil
import subprocess

import pytest

from aither_assets_tests.validation.helpers import (
    MINIMAL_CONFIG,
    of_rule,
    repo,
    validate,
    where,
    write_files,
)

GOOD = """\
name: demo
x-common: &common
  restart: unless-stopped
services:
  web:
    <<: *common
    build: .
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443/tcp"
      - "[::1]:9000-9001:9000-9001"
      - 3000
      - target: 80
        published: "8081"
        protocol: tcp
        host_ip: 127.0.0.1
      - "${PORT}:80"
    depends_on:
      db:
        condition: service_healthy
  db:
    image: postgres:16
  worker:
    image: demo
    depends_on: [db]
"""


def _compose(report):
    return {f for f in report.findings if f.rule.startswith("compose")}


def test_valid_compose_file_has_no_finding(tmp_path):
    repo(tmp_path, {"compose.yaml": GOOD})
    assert _compose(validate(tmp_path)) == set()


def test_compose_structure_errors(tmp_path):
    repo(tmp_path, {"docker-compose.yml": """\
        services:
          web:
            ports:
              - "8080:80:70:60"
              - "localhost:80:80"
              - "80/icmp"
              - target: 99999
              - published: 80
            depends_on: [db, cache]
          db:
            image: postgres
            depends_on:
              web: {condition: service_ready}
        volumez: {}
        """})
    assert where(_compose(validate(tmp_path))) == {
        ("docker-compose.yml", 2, "compose-service", "error"),
        ("docker-compose.yml", 4, "compose-ports", "error"),
        ("docker-compose.yml", 5, "compose-ports", "error"),
        ("docker-compose.yml", 6, "compose-ports", "error"),
        ("docker-compose.yml", 7, "compose-ports", "error"),
        ("docker-compose.yml", 8, "compose-ports", "error"),
        ("docker-compose.yml", 9, "compose-depends-on", "error"),
        ("docker-compose.yml", 13, "compose-depends-on", "error"),
        ("docker-compose.yml", 14, "compose-unknown-key", "warning"),
    }


def test_compose_without_services(tmp_path):
    repo(tmp_path, {"compose.yml": "version: '3'\nnetworks: {}\n"})
    assert where(_compose(validate(tmp_path))) == {("compose.yml", 1, "compose-structure", "error")}


def test_config_names_the_compose_file(tmp_path):
    config = MINIMAL_CONFIG + "docker:\n  compose: deploy/stack.yml\n"
    write_files(tmp_path, {".aither/pipeline.yaml": config, "deploy/stack.yml": "services:\n  web: {}\n",
                           "compose.yaml": GOOD})
    assert where(_compose(validate(tmp_path))) == {("deploy/stack.yml", 2, "compose-service", "error")}


def test_config_naming_a_missing_compose_file(tmp_path):
    write_files(tmp_path, {".aither/pipeline.yaml": MINIMAL_CONFIG + "docker:\n  compose: gone.yml\n"})
    assert where(of_rule(validate(tmp_path), "compose-missing")) == {(".aither/pipeline.yaml", 8, "compose-missing", "error")}


def _compose_plugin() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    try:
        return subprocess.run([docker, "compose", "version"], check=False, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.skipif(not _compose_plugin(), reason="the docker compose plugin is not installed")
def test_docker_compose_config_runs_when_available(tmp_path):
    repo(tmp_path, {"compose.yaml": "services:\n  web:\n    image: x\n    restart: sometimes-maybe\n"})
    report = validate(tmp_path, docker="docker")
    assert where(of_rule(report, "compose-config")) == {("compose.yaml", None, "compose-config", "error")}
    repo(tmp_path, {"compose.yaml": GOOD})
    assert of_rule(validate(tmp_path, docker="docker"), "compose-config") == []


def test_missing_compose_plugin_is_only_noted(tmp_path):
    repo(tmp_path, {"compose.yaml": GOOD})
    report = validate(tmp_path, docker="docker-binary-that-does-not-exist")
    assert report.tools["docker compose"].startswith("not available:")
    assert of_rule(report, "tool-error") == []
