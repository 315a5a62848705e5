import json

from aither_assets.validation import (
    Finding,
    markdown_table,
    sort_findings,
    validate_repository,
)
from aither_assets.validation import report as report_module
from aither_assets_tests.validation.helpers import of_rule, repo, validate


def test_sorted_by_severity_file_line_and_deduplicated():
    a = Finding("b.yml", 3, "r", "warning", "m", "aither")
    b = Finding("a.yml", 9, "r", "error", "m", "aither")
    c = Finding("a.yml", 2, "r", "error", "m", "aither")
    d = Finding("a.yml", None, "r", "info", "m", "aither")
    assert sort_findings([a, b, c, d, a, c]) == [c, b, a, d]


def test_report_json_is_serialisable_and_counts(tmp_path):
    repo(tmp_path, {"x.yaml": "a: [\n", "y.yaml": "ok: 1\n"})
    report = validate(tmp_path)
    data = json.loads(json.dumps(report.to_json()))
    assert data["counts"] == {"error": 1, "warning": 0, "info": 0}
    assert data["ok"] is False
    assert data["files_checked"] == 3
    assert data["findings"] == [{"file": "x.yaml", "line": 2, "rule": "yaml-syntax", "severity": "error",
                                 "message": data["findings"][0]["message"], "tool": "aither"}]
    assert set(data["tools"]) == {"hadolint", "zizmor", "docker compose"}


def test_a_crash_of_a_check_becomes_a_finding(tmp_path, monkeypatch):
    def boom(repo):
        raise KeyError("surprise")

    monkeypatch.setattr(report_module, "check_workflows", boom)
    repo(tmp_path, {"x.yaml": "a: [\n"})
    report = validate_repository(tmp_path, hadolint=None, zizmor=None, docker=None)
    assert [f.rule for f in of_rule(report, "internal-error")] == ["internal-error"]
    assert of_rule(report, "yaml-syntax")  # the other checks still ran


def test_markdown_table_escapes_every_cell_and_limits_rows():
    hostile = Finding("<img src=x onerror=alert(1)>|.yml", 1, "r|x", "error", "a | b\n# heading <script>", "aither")
    table = markdown_table([hostile] * 3, limit=2)
    lines = table.splitlines()
    assert lines[0] == "| file | line | rule | severity | message |"
    assert len([line for line in lines if line.startswith("| ")]) == 3
    assert "<img" not in table and "<script>" not in table
    assert all(line.count(" | ") == 4 for line in lines[2:4])  # no cell was split by a raw pipe
    assert "1 more finding(s) not shown." in table


def test_missing_root_is_a_finding_not_an_exception(tmp_path):
    report = validate_repository(tmp_path / "nope")
    assert [(f.rule, f.severity) for f in report.findings] == [("repository-missing", "error")]
