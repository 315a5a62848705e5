"""Test reports: JUnit XML (with junitparser) and NUnit 2/3 XML (with ElementTree), never with regexes.

The format is detected from the root element: ``<testsuites>`` or a bare ``<testsuite>``
is JUnit, ``<test-run>`` is NUnit 3, ``<test-results>`` is NUnit 2. Attribute order,
self-closing elements and nesting do not matter: an XML parser reads them (the regex
parser this replaces reported 0 tests whenever ``result`` came before ``name``).

Counts are computed from the test cases actually present, not from the summary
attributes a tool wrote. A report with no test case is a real 0; a missing or broken
report is an exception (``ReportError``), never a 0.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Literal
from xml.parsers import expat

try:  # defusedxml when installed; else stdlib expat, with DTDs refused by read_xml below
    from defusedxml.ElementTree import fromstring as _fromstring
except ImportError:  # pragma: no cover - depends on the environment
    _fromstring = ET.fromstring

from junitparser import Attr, Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

CaseStatus = Literal["passed", "failed", "error", "skipped"]
ReportFormat = Literal["junit", "nunit3", "nunit2"]

#: Reports larger than this are refused rather than read into memory.
MAX_REPORT_BYTES = 64 * 1024 * 1024
#: Failure messages are cut to this many characters.
MAX_MESSAGE_CHARS = 4000


class ReportError(ValueError):
    """A report that cannot be read: missing, too large, not XML, or of an unknown format."""


@dataclass(frozen=True)
class CaseResult:
    classname: str | None
    name: str
    file: str | None
    status: CaseStatus
    duration: float | None
    message: str | None = None

    @property
    def id(self) -> str:
        """Pytest-style ``file::Class::name`` when the file is known, else ``classname::name``."""
        if self.file:
            dotted = ".".join(PurePosixPath(self.file).with_suffix("").parts)
            inner = (self.classname or "")[len(dotted) + 1:] if (self.classname or "").startswith(dotted + ".") else ""
            return "::".join([self.file, *filter(None, inner.split(".")), self.name])
        return f"{self.classname}::{self.name}" if self.classname else self.name

    def to_json(self) -> dict:
        return {**asdict(self), "id": self.id}


@dataclass
class TestReport:
    __test__ = False  # not a pytest test class

    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    duration_seconds: float | None
    cases: list[CaseResult] = field(default_factory=list)
    format: ReportFormat = "junit"

    @classmethod
    def from_cases(cls, cases: Iterable[CaseResult], duration: float | None, fmt: ReportFormat) -> TestReport:
        cases = list(cases)
        count = {status: sum(1 for c in cases if c.status == status)
                 for status in ("passed", "failed", "error", "skipped")}
        if duration is None:
            times = [c.duration for c in cases if c.duration is not None]
            duration = round(sum(times), 6) if times else None
        return cls(
            tests=len(cases),
            passed=count["passed"],
            failed=count["failed"],
            errors=count["error"],
            skipped=count["skipped"],
            duration_seconds=duration,
            cases=cases,
            format=fmt,
        )

    def failures(self) -> list[CaseResult]:
        """Failed and errored cases, in report order."""
        return [c for c in self.cases if c.status in ("failed", "error")]

    def to_json(self, with_cases: bool = True) -> dict:
        data = {
            "format": self.format,
            "tests": self.tests,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
            "duration_seconds": self.duration_seconds,
        }
        if with_cases:
            data["cases"] = [c.to_json() for c in self.cases]
        return data


# --------------------------------------------------------------------------- XML loading


def _refuse_dtd(*_args) -> None:
    raise ReportError("DOCTYPE and entity declarations are not allowed in reports")


def read_xml(data: bytes, label: str) -> ET.Element:
    """Parse ``data`` into an element tree; errors name ``label`` (the file).

    Documents with a DTD are refused (no entity expansion, no external entities): a
    streaming expat pass checks that first, then ElementTree builds the tree.
    """
    if len(data) > MAX_REPORT_BYTES:
        raise ReportError(f"{label}: report is larger than {MAX_REPORT_BYTES} bytes")
    checker = expat.ParserCreate()
    checker.StartDoctypeDeclHandler = _refuse_dtd
    checker.EntityDeclHandler = _refuse_dtd
    try:
        checker.Parse(data, True)
        return _fromstring(data)  # no DTD (checked above): nothing to expand
    except ReportError as exc:
        raise ReportError(f"{label}: {exc}") from None
    except (expat.ExpatError, ET.ParseError) as exc:
        raise ReportError(f"{label}: not well-formed XML: {exc}") from None


def read_xml_file(path: Path) -> ET.Element:
    try:
        size = path.stat().st_size
        if size > MAX_REPORT_BYTES:
            raise ReportError(f"{path}: report is larger than {MAX_REPORT_BYTES} bytes")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ReportError(f"{path}: no such report") from None
    except OSError as exc:
        raise ReportError(f"{path}: cannot read report: {exc.strerror or exc}") from None
    return read_xml(data, str(path))


def detect_format(root: ET.Element) -> ReportFormat | None:
    return {"testsuites": "junit", "testsuite": "junit", "test-run": "nunit3", "test-results": "nunit2"}.get(root.tag)


def parse_report(path: Path, files: Iterable[str] = ()) -> TestReport:
    """Read a JUnit or NUnit XML file. ``files`` (repo-relative test files) lets cases without a
    ``file`` attribute be matched to their file through their dotted classname."""
    return parse_root(read_xml_file(Path(path)), str(path), files)


def parse_report_text(text: str | bytes, label: str = "<report>", files: Iterable[str] = ()) -> TestReport:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return parse_root(read_xml(data, label), label, files)


def parse_root(root: ET.Element, label: str, files: Iterable[str] = ()) -> TestReport:
    fmt = detect_format(root)
    try:
        if fmt == "junit":
            return _parse_junit(root, _FileResolver(files))
        if fmt == "nunit3":
            return _parse_nunit3(root)
        if fmt == "nunit2":
            return _parse_nunit2(root)
    except ReportError as exc:
        raise ReportError(f"{label}: {exc}") from None
    raise ReportError(
        f"{label}: unknown report format: root element <{root.tag}> "
        "(expected JUnit <testsuites>/<testsuite> or NUnit <test-run>/<test-results>)"
    )


# --------------------------------------------------------------------------- helpers


def parse_number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip().replace(",", ""))
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _message(*candidates: str | None) -> str | None:
    for text in candidates:
        if text and text.strip():
            text = text.strip()
            return text if len(text) <= MAX_MESSAGE_CHARS else text[:MAX_MESSAGE_CHARS] + "…"
    return None


class _FileResolver:
    """Maps pytest-style dotted classnames (``tests.unit.0105_test_handlers``) back to suite files."""

    def __init__(self, files: Iterable[str]):
        self._dotted = sorted(
            ((".".join(PurePosixPath(f).with_suffix("").parts), f) for f in files),
            key=lambda item: -len(item[0]),
        )

    def __call__(self, classname: str | None) -> str | None:
        if not classname:
            return None
        for dotted, file in self._dotted:
            if classname == dotted or classname.startswith(dotted + "."):
                return file
        return None


# --------------------------------------------------------------------------- JUnit


class _Seconds(Attr):
    """A float attribute that reads as None when absent or malformed (and never rewrites the tree)."""

    def __get__(self, instance, cls):
        return parse_number(super().__get__(instance, cls))


class _Case(TestCase):
    time = _Seconds()
    file = Attr()


class _Suite(TestSuite):
    testcase = _Case
    time = _Seconds()


class _Report(JUnitXml):
    testsuite = _Suite
    time = _Seconds()


def _parse_junit(root: ET.Element, resolve_file: _FileResolver) -> TestReport:
    report = _Report.fromroot(root)
    cases: list[CaseResult] = []
    suite_times: list[float | None] = []
    for suite in report:
        suite_times.append(suite.time)
        for case in suite:
            results = case.result
            failure = next((r for r in results if isinstance(r, Error)), None)
            status: CaseStatus = "error"
            if failure is None:
                failure = next((r for r in results if isinstance(r, Failure)), None)
                status = "failed"
            if failure is None:
                failure = next((r for r in results if isinstance(r, Skipped)), None)
                status = "skipped"
            if failure is None:
                status = "passed"
            classname = case.classname or None
            cases.append(
                CaseResult(
                    classname=classname,
                    name=case.name or "(unnamed)",
                    file=case.file or resolve_file(classname),
                    status=status,
                    duration=case.time,
                    message=_message(failure.message, failure.text) if failure is not None else None,
                )
            )
    duration = report.time if root.tag == "testsuites" else None
    if duration is None and suite_times and all(t is not None for t in suite_times):
        duration = round(sum(suite_times), 6)
    return TestReport.from_cases(cases, duration, "junit")


# --------------------------------------------------------------------------- NUnit


def _child_message(case: ET.Element, *containers: str) -> str | None:
    texts = []
    for container in containers:
        node = case.find(container)
        if node is not None:
            texts.append(node.findtext("message"))
            texts.append(node.get("message"))
    return _message(*texts)


def _nunit_classname(case: ET.Element, name: str) -> str | None:
    classname = case.get("classname")
    if classname:
        return classname
    fullname = case.get("fullname") or ""
    suffix = "." + name
    return fullname[: -len(suffix)] if fullname.endswith(suffix) else (fullname or None)


_NUNIT3_STATUS: dict[str, CaseStatus] = {
    "passed": "passed",
    "warning": "passed",  # passed, with warnings
    "failed": "failed",
    "skipped": "skipped",
    "inconclusive": "skipped",  # neither passed nor failed: counted as not run
}


def _parse_nunit3(root: ET.Element) -> TestReport:
    cases = []
    for case in root.iter("test-case"):
        name = case.get("name") or case.get("fullname") or "(unnamed)"
        result = (case.get("result") or "").strip().lower()
        label = (case.get("label") or "").strip().lower()
        status = _NUNIT3_STATUS.get(result, "error")
        if status == "failed" and label in ("error", "cancelled", "invalid"):
            status = "error"
        message = None
        if status in ("failed", "error"):
            message = _child_message(case, "failure", "reason") or (
                f"result {case.get('result')!r}" if result not in _NUNIT3_STATUS else None
            )
        elif status == "skipped":
            message = _child_message(case, "reason", "failure") or (result if result == "inconclusive" else None)
        cases.append(
            CaseResult(
                classname=_nunit_classname(case, name),
                name=name,
                file=None,
                status=status,
                duration=parse_number(case.get("duration")),
                message=message,
            )
        )
    return TestReport.from_cases(cases, parse_number(root.get("duration")), "nunit3")


_NUNIT2_STATUS: dict[str, CaseStatus] = {
    "success": "passed",
    "failure": "failed",
    "error": "error",
    "cancelled": "error",
    "notrunnable": "error",
    "ignored": "skipped",
    "skipped": "skipped",
    "inconclusive": "skipped",
    "notrun": "skipped",
}


def _parse_nunit2(root: ET.Element) -> TestReport:
    cases = []
    for case in root.iter("test-case"):
        fullname = case.get("name") or "(unnamed)"
        result = (case.get("result") or "").strip().lower()
        executed = (case.get("executed") or "true").strip().lower()
        status = _NUNIT2_STATUS.get(result, "skipped" if executed == "false" else "error")
        classname, _, short = fullname.rpartition(".")
        message = None
        if status != "passed":
            message = _child_message(case, "failure", "reason")
        cases.append(
            CaseResult(
                classname=classname or None,
                name=short or fullname,
                file=None,
                status=status,
                duration=parse_number(case.get("time")),
                message=message,
            )
        )
    top = root.find("test-suite")
    duration = parse_number(top.get("time")) if top is not None else None
    return TestReport.from_cases(cases, duration, "nunit2")
