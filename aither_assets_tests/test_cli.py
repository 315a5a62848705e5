"""`aither validate`: what a PR author runs before pushing."""

import json
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


# -- aither validate --repo: the whole validation stage on a checkout ------------------------
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _variant(tmp_path: Path, name: str) -> Path:
    head = tmp_path / "head"
    shutil.copytree(EXAMPLES / "sample-app", head, symlinks=True)
    shutil.copytree(EXAMPLES / "sample-app-variants" / name, head, symlinks=True, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("VARIANT.md"))
    return head


def test_validate_repo_on_the_sample_app_is_clean(tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["validate", "--repo", str(EXAMPLES / "sample-app"), "--json", str(out)],
                                env={"AITHER_CONFIG": ""})
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("no blocking finding")
    assert "policy: security findings block at high severity and high confidence; warn only: unpinned-uses" \
        in result.output
    report = json.loads(out.read_text())
    assert report["ok"] is True and report["counts"]["error"] == 0
    assert report["tools"]["zizmor"].startswith("zizmor")


def test_validate_repo_on_the_miswired_variant_exits_one_with_its_findings(tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["validate", "--repo", str(_variant(tmp_path, "bad-workflows")),
                                       "--json", str(out)], env={"AITHER_CONFIG": ""})
    assert result.exit_code == 1, result.output
    rows = {tuple(line.split()[:3]) for line in result.output.splitlines() if " error " in line}
    assert rows == {
        (".github/workflows/ci.yml:13", "error", "shared-concurrency-group"),
        (".github/workflows/lint.yml:11", "error", "shared-concurrency-group"),
        (".github/workflows/ci.yml:43", "error", "needs-missing-job"),
        (".github/workflows/ci.yml:46", "error", "reusable-not-callable"),
        (".github/workflows/publish.yml:13", "error", "reusable-permissions"),
    }
    assert "5 blocking finding(s)" in result.output and "findings per tool: aither: 5 error" in result.output
    report = json.loads(out.read_text())
    assert report["ok"] is False and report["counts_by_tool"]["aither"]["error"] == 5


def test_validate_repo_applies_the_operator_policy(tmp_path):
    config = tmp_path / "aither.yaml"
    config.write_text("repository: acme/web\nvalidation:\n  block: [self-repository]\n")
    result = CliRunner().invoke(main, ["validate", "--repo", str(EXAMPLES / "sample-app"), "--config", str(config)])
    assert result.exit_code == 1 and "error     self-repository" in result.output
    config.write_text("repository: acme/web\nvalidation:\n  block_severity: urgent\n")
    result = CliRunner().invoke(main, ["validate", "--repo", str(EXAMPLES / "sample-app"), "--config", str(config)])
    assert result.exit_code == 2 and "validation.block_severity" in result.output


def test_validate_repo_usage_errors(tmp_path):
    assert CliRunner().invoke(main, ["validate", "--repo", str(tmp_path), str(tmp_path)]).exit_code == 2
    assert CliRunner().invoke(main, ["validate"]).exit_code == 2
    assert CliRunner().invoke(main, ["validate", str(tmp_path), "--json", str(tmp_path / "x.json")]).exit_code == 2
