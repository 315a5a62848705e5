"""Parsing linter output: ruff JSON, SARIF, JUnit; the ruff severity mapping."""

from __future__ import annotations

import json

import pytest

from aither_assets.quality.findings import (
    FindingsError,
    parse_findings,
    parse_junit_findings,
    parse_ruff_json,
    parse_sarif,
    ruff_severity,
)


@pytest.mark.parametrize(("code", "severity"), [
    (None, "error"), ("invalid-syntax", "error"), ("E999", "error"), ("E902", "error"),
    ("F632", "error"), ("F633", "error"), ("F701", "error"), ("F706", "error"), ("F821", "error"), ("F822", "error"),
    ("PLE0101", "error"),
    ("F401", "warning"), ("F841", "warning"), ("F811", "warning"), ("B006", "warning"), ("S101", "warning"),
    ("PLW0603", "warning"), ("ASYNC100", "warning"),
    ("E501", "info"), ("E711", "info"), ("W291", "info"), ("I001", "info"), ("N802", "info"), ("UP006", "info"),
    ("SIM108", "info"), ("RUF100", "info"), ("FBT001", "info"), ("FURB101", "info"), ("BLE001", "info"),
    ("A001", "info"), ("PLR0913", "info"), ("D100", "info"),
])
def test_ruff_severity(code, severity):
    assert ruff_severity(code) == severity


def test_ruff_json(tmp_path):
    root = tmp_path / "repo"
    data = [
        {"code": "F401", "filename": str(root / "app" / "x.py"), "location": {"row": 3, "column": 8},
         "message": "`os` imported but unused", "severity": "error", "fix": None},
        {"code": "invalid-syntax", "filename": str(root / "bad.py"), "location": {"row": 4, "column": 7},
         "message": "Expected a parameter", "severity": "error"},
        {"code": None, "filename": "rel/y.py", "location": {"row": 1, "column": 1}, "message": "SyntaxError: x"},
        {"code": "E501", "filename": "/elsewhere/z.py", "location": {"row": 9, "column": 121}, "message": "long"},
    ]
    findings = parse_ruff_json(json.dumps(data), root)
    assert [(f.file, f.line, f.rule, f.severity, f.column) for f in findings] == [
        ("app/x.py", 3, "F401", "warning", 8),
        ("bad.py", 4, "invalid-syntax", "error", 7),
        ("rel/y.py", 1, "syntax-error", "error", 1),
        ("/elsewhere/z.py", 9, "E501", "info", 121),
    ]
    assert findings[0].linter == "ruff" and findings[0].message == "`os` imported but unused"
    assert parse_ruff_json("[]", root) == []


@pytest.mark.parametrize(("text", "error"), [
    ("", "no ruff-json output"), ("error: unexpected argument", "not valid ruff-json JSON"),
    ('{"a": 1}', "must be a list"), ('[{"code": "F401"}]', "no filename"),
])
def test_ruff_json_garbage(tmp_path, text, error):
    with pytest.raises(FindingsError, match=error):
        parse_ruff_json(text, tmp_path)


def test_sarif(tmp_path):
    root = tmp_path / "repo"
    sarif = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "zizmor", "rules": [
                    {"id": "template-injection", "defaultConfiguration": {"level": "error"}},
                    {"id": "unpinned-uses"},
                ]}},
                "originalUriBaseIds": {"SRC": {"uri": f"file://{root}/"}},
                "artifacts": [{"location": {"uri": ".github/workflows/from-index.yml"}}],
                "results": [
                    {"ruleId": "template-injection", "message": {"text": "code injection via ${{ github.head_ref }}"},
                     "locations": [{"physicalLocation": {"artifactLocation": {"uri": f"file://{root}/.github/workflows/ci.yml"},
                                                         "region": {"startLine": 12, "startColumn": 3}}}]},
                    {"ruleIndex": 1, "level": "note", "message": {"text": "pin it"},
                     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "deploy%20it.yml", "uriBaseId": "SRC"},
                                                         "region": {"startLine": 4}}}]},
                    {"ruleId": "unpinned-uses", "message": {"text": "no level anywhere"},
                     "locations": [{"physicalLocation": {"artifactLocation": {"index": 0}}}]},
                    {"ruleId": "repo-wide", "level": "warning", "message": {"text": "no location"}},
                ],
            },
            {"tool": {"driver": {"name": "empty"}}, "results": []},
        ],
    }
    findings = parse_sarif(json.dumps(sarif), root, linter="zizmor")
    assert [(f.file, f.line, f.rule, f.severity) for f in findings] == [
        (".github/workflows/ci.yml", 12, "template-injection", "error"),  # level from the rule's default
        ("deploy it.yml", 4, "unpinned-uses", "info"),  # note -> info; uriBaseId resolved; %20 decoded
        (".github/workflows/from-index.yml", None, "unpinned-uses", "warning"),  # SARIF's default level
        ("", None, "repo-wide", "warning"),
    ]
    assert findings[0].message == "code injection via ${{ github.head_ref }}"
    assert all(f.linter == "zizmor" for f in findings)
    with pytest.raises(FindingsError, match="no runs"):
        parse_sarif('{"version": "2.1.0"}', root)


def test_junit_findings(tmp_path):
    root = tmp_path / "repo"
    junit = f"""<?xml version="1.0" encoding="UTF-8"?>
    <testsuites name="ruff">
      <testsuite name="{root}/app/x.py" package="org.ruff">
        <testcase name="org.ruff.F401" classname="{root}/app/x" line="3" column="8">
          <properties><property name="severity" value="warning"/></properties>
          <failure message="`os` imported but unused">line 3, col 8, `os` imported but unused</failure>
        </testcase>
        <testcase name="passing-check" classname="x"/>
      </testsuite>
      <testsuite name="other">
        <testcase name="DL3008" file="Dockerfile" line="7"><failure type="info">Pin versions in apt get install</failure></testcase>
        <testcase name="SC2086" classname="scripts/run.sh"><error message="Double quote to prevent globbing"/></testcase>
      </testsuite>
    </testsuites>"""
    findings = parse_junit_findings(junit, root, linter="hadolint")
    assert [(f.file, f.line, f.rule, f.severity, f.message) for f in findings] == [
        ("app/x.py", 3, "org.ruff.F401", "warning", "`os` imported but unused"),
        ("Dockerfile", 7, "DL3008", "info", "Pin versions in apt get install"),
        ("other", None, "SC2086", "error", "Double quote to prevent globbing"),
    ]
    with pytest.raises(FindingsError, match="not well-formed"):
        parse_junit_findings("<testsuites><testcase", root)
    with pytest.raises(FindingsError, match="unknown format"):
        parse_findings("checkstyle", "<x/>", root, "x")
