"""`aither validate`: what a PR author runs before pushing."""

import shutil
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from aither_assets.cli import main
from aither_assets_tests.config.test_pipeline import VALID


def make_repo(tmp_path: Path, text: str) -> Path:
    (tmp_path / ".aither").mkdir()
    (tmp_path / ".aither" / "pipeline.yaml").write_text(text)
    return tmp_path


def test_validate_ok_exits_zero(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(make_repo(tmp_path, VALID))])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK: ")


def test_validate_prints_each_error_and_exits_one(tmp_path):
    repo = make_repo(tmp_path, VALID.replace("port: 8000", "port: -1").replace("path: /health", "path: x"))
    result = CliRunner().invoke(main, ["validate", str(repo)])
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert lines == [
        ".aither/pipeline.yaml:2: app.port: Input should be greater than or equal to 1 (got -1)",
        ".aither/pipeline.yaml:20: smoke[0].path: must be a URL path starting with /, e.g. /health (got 'x')",
    ]


def test_validate_repo_without_config(tmp_path):
    result = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    assert result.output.strip() == ".aither/pipeline.yaml: <top level>: file not found"


def test_validate_operator_config(tmp_path):
    path = tmp_path / "op.yaml"
    path.write_text("repository: acme/web\n")
    assert CliRunner().invoke(main, ["validate", "--operator", str(path)]).exit_code == 0
    path.write_text("repository: nope\n")
    result = CliRunner().invoke(main, ["validate", "--operator", str(path)])
    assert result.exit_code == 1 and "repository: must be owner/name" in result.output


def test_console_script_is_installed(tmp_path):
    aither = shutil.which("aither", path=str(Path(sys.executable).parent))
    assert aither, "the aither console script is not installed"
    proc = subprocess.run([aither, "validate", str(make_repo(tmp_path, VALID))], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_webhooks_refuses_to_start_without_its_secret(tmp_path, monkeypatch):
    config = tmp_path / "aither.yaml"
    config.write_text("repository: acme/web\ngithub:\n  webhook_secret_env: ACME_HOOK_SECRET\n")
    monkeypatch.delenv("ACME_HOOK_SECRET", raising=False)
    result = CliRunner().invoke(main, ["webhooks", "--config", str(config), "--port", "0"])
    assert result.exit_code == 1
    assert f"environment variable ACME_HOOK_SECRET (github.webhook_secret_env in {config}) is not set" in result.output


def test_webhooks_names_a_bad_operator_config(tmp_path, monkeypatch):
    config = tmp_path / "aither.yaml"
    config.write_text("repository: acme/web\ngithub:\n  webhook_secret_env: 'not a name'\n")
    monkeypatch.setenv("AITHER_WEBHOOK_SECRET", "x")
    result = CliRunner().invoke(main, ["webhooks", "--config", str(config), "--port", "0"])
    assert result.exit_code == 1 and "github.webhook_secret_env" in result.output and "not a name" in result.output
