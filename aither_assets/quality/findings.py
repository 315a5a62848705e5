"""Lint findings and how each supported output format maps to them.

Formats (``LinterConfig.format``):

* ``ruff-json`` — ruff's ``--output-format=json`` list. Ruff's own ``severity`` field says
  "error" for every rule, so it is ignored and the rule code decides (``RUFF_SEVERITY``).
* ``sarif`` — SARIF 2.1.0: ``runs[].results[]``; ``level`` error -> error, warning -> warning,
  note/none -> info; a result without ``level`` takes its rule's
  ``defaultConfiguration.level``, else SARIF's default, warning.
* ``junit`` — every failed or errored test case is a finding (hadolint, ruff, eslint ... can
  write JUnit); the file is the case's ``file`` attribute, else its ``<testsuite name>``,
  else its classname; severity from a ``severity`` property or the failure's ``type`` when
  that is a severity word, else error.

Paths are made repo-relative when they point inside the checkout (absolute paths and
``file://`` URIs included).
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Literal
from urllib.parse import unquote, urlparse

from junitparser import Attr, Error, Failure, JUnitXml, TestCase, TestSuite

from aither_assets.suites.reports import ReportError, parse_number, read_xml

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")

MAX_MESSAGE_CHARS = 2000

#: Ruff rule code -> severity. Rules are matched as ``<LETTERS><DIGITS>``; the first row whose
#: letters are equal and whose digits start with the given digits wins.
#:
#: * error: the code cannot run or is certainly wrong. No code / ``invalid-syntax`` / any
#:   non-rule diagnostic (syntax errors, unreadable files), ``E9`` (E902 IO error, E999 syntax
#:   error), ``F63`` (invalid comparisons, e.g. ``is`` with a literal), ``F7`` (``break``/
#:   ``return``/``yield`` outside their scope, misplaced ``except:``), ``F82`` (undefined
#:   names), ``PLE`` (pylint errors). This is flake8's classic "stop the build" set
#:   ``E9,F63,F7,F82``.
#: * warning: likely bugs or risks. Other ``F`` (pyflakes: unused imports/variables,
#:   redefinitions), ``B`` (bugbear), ``S`` (bandit security), ``PLW`` (pylint warnings),
#:   ``ASYNC``.
#: * info: everything else (style and modernisation: E, W, I, N, UP, SIM, C4, RUF, D, ...).
RUFF_SEVERITY: tuple[tuple[str, str, Severity], ...] = (
    ("E", "9", "error"),
    ("F", "63", "error"),
    ("F", "7", "error"),
    ("F", "82", "error"),
    ("PLE", "", "error"),
    ("F", "", "warning"),
    ("B", "", "warning"),
    ("S", "", "warning"),
    ("PLW", "", "warning"),
    ("ASYNC", "", "warning"),
)
_RULE_CODE = re.compile(r"([A-Z]+)([0-9]+)")
_SARIF_LEVEL: dict[str, Severity] = {"error": "error", "warning": "warning", "note": "info", "none": "info"}


class FindingsError(ValueError):
    """Linter output that is not what its declared format promises."""


@dataclass(frozen=True)
class LintFinding:
    file: str
    line: int | None
    rule: str
    severity: Severity
    message: str
    linter: str
    column: int | None = None

    def to_json(self) -> dict:
        return asdict(self)


def ruff_severity(code: str | None) -> Severity:
    """Severity of a ruff diagnostic by its rule code (see ``RUFF_SEVERITY``)."""
    match = _RULE_CODE.fullmatch(code or "")
    if not match:
        return "error"  # syntax errors ("invalid-syntax", or no code) and other non-rule diagnostics
    letters, digits = match[1], match[2]
    for prefix_letters, prefix_digits, severity in RUFF_SEVERITY:
        if letters == prefix_letters and digits.startswith(prefix_digits):
            return severity
    return "info"


def relative_path(value: str, root: Path) -> str:
    """``value`` relative to ``root`` when it points inside it; otherwise unchanged (POSIX)."""
    if not value:
        return ""
    path = PurePosixPath(value.replace("\\", "/"))
    if path.is_absolute():
        for base in (Path(root).absolute(), Path(root).resolve()):
            try:
                return PurePosixPath(Path(path).relative_to(base).as_posix()).as_posix()
            except ValueError:
                continue
        return path.as_posix()
    return path.as_posix()  # also drops a leading "./"


def _text(value, limit: int = MAX_MESSAGE_CHARS) -> str:
    text = "" if value is None else str(value).strip()
    return text if len(text) <= limit else text[:limit] + "…"


def _line(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    number = parse_number(value) if isinstance(value, str) else None
    return int(number) if number is not None and number > 0 and number == int(number) else None


def _json(stdout: str, fmt: str):
    if not stdout.strip():
        raise FindingsError(f"printed no {fmt} output")
    try:
        return json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise FindingsError(f"output is not valid {fmt} JSON: {exc}") from None


# --------------------------------------------------------------------------- ruff


def parse_ruff_json(stdout: str, root: Path, linter: str = "ruff") -> list[LintFinding]:
    data = _json(stdout, "ruff-json")
    if not isinstance(data, list):
        raise FindingsError(f"ruff-json output must be a list, got {type(data).__name__}")
    findings = []
    for index, item in enumerate(data):
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str):
            raise FindingsError(f"ruff-json item {index} has no filename")
        location = item.get("location") if isinstance(item.get("location"), dict) else {}
        code = item.get("code") if isinstance(item.get("code"), str) else None
        findings.append(LintFinding(
            file=relative_path(item["filename"], root),
            line=_line(location.get("row")),
            rule=code or "syntax-error",
            severity=ruff_severity(code),
            message=_text(item.get("message")),
            linter=linter,
            column=_line(location.get("column")),
        ))
    return findings


# --------------------------------------------------------------------------- SARIF


def _uri_to_path(uri: str, base: str | None, run: dict, root: Path) -> str:
    bases = run.get("originalUriBaseIds") if isinstance(run.get("originalUriBaseIds"), dict) else {}
    if base and isinstance(bases.get(base), dict) and isinstance(bases[base].get("uri"), str):
        prefix = bases[base]["uri"]
        uri = prefix.rstrip("/") + "/" + uri if not urlparse(uri).scheme else uri
    parsed = urlparse(uri)
    if parsed.scheme == "file":
        return relative_path(unquote(parsed.path), root)
    if parsed.scheme:
        return uri
    return relative_path(unquote(uri), root)


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def parse_sarif(stdout: str, root: Path, linter: str = "sarif") -> list[LintFinding]:
    data = _json(stdout, "SARIF")
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):
        raise FindingsError("SARIF output has no runs list")
    findings = []
    for run in data["runs"]:
        run = _dict(run)
        driver = _dict(_dict(run.get("tool")).get("driver"))
        rules = [_dict(r) for r in _list(driver.get("rules"))]
        artifacts = [_dict(a) for a in _list(run.get("artifacts"))]
        for result in _list(run.get("results")):
            if not isinstance(result, dict):
                raise FindingsError("SARIF result is not an object")
            index = result.get("ruleIndex")
            rule = rules[index] if isinstance(index, int) and 0 <= index < len(rules) else {}
            rule_id = result.get("ruleId") or _dict(result.get("rule")).get("id") or rule.get("id") or ""
            if not rule and rule_id:
                rule = next((r for r in rules if r.get("id") == rule_id), {})
            level = result.get("level") or _dict(rule.get("defaultConfiguration")).get("level") or "warning"
            message = _dict(result.get("message"))
            text = message.get("text") or message.get("markdown") or message.get("id") or ""
            physical = _dict(_dict((_list(result.get("locations")) or [{}])[0]).get("physicalLocation"))
            artifact = _dict(physical.get("artifactLocation"))
            if "uri" not in artifact and isinstance(artifact.get("index"), int) and artifact["index"] < len(artifacts):
                artifact = _dict(artifacts[artifact["index"]].get("location"))
            uri = artifact.get("uri") if isinstance(artifact.get("uri"), str) else ""
            region = _dict(physical.get("region"))
            findings.append(LintFinding(
                file=_uri_to_path(uri, artifact.get("uriBaseId"), run, root) if uri else "",
                line=_line(region.get("startLine")),
                rule=_text(rule_id, 200),
                severity=_SARIF_LEVEL.get(str(level).lower(), "warning"),
                message=_text(text),
                linter=linter,
                column=_line(region.get("startColumn")),
            ))
    return findings


# --------------------------------------------------------------------------- JUnit


class _Case(TestCase):
    file = Attr()
    line = Attr()


class _Suite(TestSuite):
    testcase = _Case


class _Report(JUnitXml):
    testsuite = _Suite


_SEVERITY_WORDS: dict[str, Severity] = {
    "error": "error", "warning": "warning", "info": "info", "note": "info", "information": "info",
}


def _case_severity(case: _Case, result) -> Severity:
    for prop in case._elem.iter("property"):
        if prop.get("name") == "severity":
            return _SEVERITY_WORDS.get((prop.get("value") or "").lower(), "error")
    return _SEVERITY_WORDS.get((result.type or "").lower(), "error")


def parse_junit_findings(text: str, root: Path, linter: str = "junit", label: str = "<stdout>") -> list[LintFinding]:
    if not text.strip():
        raise FindingsError("printed no JUnit output")
    try:
        xml_root = read_xml(text.encode("utf-8"), label)
    except ReportError as exc:
        raise FindingsError(str(exc)) from None
    if xml_root.tag not in ("testsuites", "testsuite"):
        raise FindingsError(f"JUnit output has root element <{xml_root.tag}>")
    findings = []
    for suite in _Report.fromroot(xml_root):
        for case in suite:
            result = next((r for r in case.result if isinstance(r, (Error, Failure))), None)
            if result is None:
                continue
            file = case.file or suite.name or case.classname or ""
            findings.append(LintFinding(
                file=relative_path(file, root),
                line=_line(case.line),
                rule=_text(case.name, 200),
                severity=_case_severity(case, result),
                message=_text(result.message or result.text),
                linter=linter,
            ))
    return findings


PARSERS = {"ruff-json": parse_ruff_json, "sarif": parse_sarif, "junit": parse_junit_findings}


def parse_findings(fmt: str, text: str, root: Path, linter: str) -> list[LintFinding]:
    """Findings from ``text`` in format ``fmt``; ``FindingsError`` when it does not parse."""
    try:
        parser = PARSERS[fmt]
    except KeyError:
        raise FindingsError(f"unknown format {fmt!r}") from None
    return parser(text, root, linter)
