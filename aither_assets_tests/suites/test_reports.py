"""JUnit / NUnit parsing with XML parsers (no regexes), and Cobertura coverage."""

from __future__ import annotations

import pytest

from aither_assets.suites.coverage import read_coverage
from aither_assets.suites.reports import (
    ReportError,
    TestReport,
    parse_report,
    parse_report_text,
)


def counts(report: TestReport) -> tuple[int, int, int, int, int]:
    return report.tests, report.passed, report.failed, report.errors, report.skipped


# --------------------------------------------------------------------------- JUnit


def test_junit_attribute_order_and_self_closing_cases():
    report = parse_report_text("""<?xml version="1.0"?>
        <testsuite errors="0" tests="2" name="s" time="0.3">
          <testcase time="0.1" name="x" classname="y"/>
          <testcase
              time="0.2"
              classname="pkg.mod.Class" name="z" />
        </testsuite>""")
    assert counts(report) == (2, 2, 0, 0, 0)
    assert [(c.classname, c.name, c.status, c.duration) for c in report.cases] == [
        ("y", "x", "passed", 0.1), ("pkg.mod.Class", "z", "passed", 0.2)]
    assert report.duration_seconds == 0.3
    assert report.format == "junit"


def test_junit_failure_error_skipped_and_messages():
    report = parse_report_text("""
        <testsuites time="1.5">
          <testsuite name="a">
            <testcase name="ok" classname="m"/>
            <testcase name="bad" classname="m" time="0.5"><failure message="assert 404 == 405">long trace</failure></testcase>
            <testcase name="text_only" classname="m"><failure>only a body</failure></testcase>
            <testcase name="boom" classname="m"><error message="fixture exploded" type="RuntimeError"/></testcase>
            <testcase name="later" classname="m"><skipped/></testcase>
            <testcase name="xfail" classname="m"><skipped type="pytest.xfail" message="known bug"/></testcase>
          </testsuite>
        </testsuites>""")
    assert counts(report) == (6, 1, 2, 1, 2)
    assert report.duration_seconds == 1.5
    by_name = {c.name: c for c in report.cases}
    assert by_name["bad"].message == "assert 404 == 405"
    assert by_name["text_only"].message == "only a body"
    assert by_name["boom"].status == "error" and by_name["boom"].message == "fixture exploded"
    assert by_name["xfail"].message == "known bug"
    assert [c.id for c in report.failures()] == ["m::bad", "m::text_only", "m::boom"]


def test_junit_nested_testsuites_and_file_attribute():
    report = parse_report_text("""
        <testsuites>
          <testsuite name="outer" time="2">
            <testcase name="a" classname="c" file="tests/test_a.py"/>
            <testsuite name="inner" time="1">
              <testcase name="b" classname="c"><failure message="no"/></testcase>
              <testsuite name="innermost"><testcase name="c" classname="c"/></testsuite>
            </testsuite>
          </testsuite>
          <testsuite name="second" time="0.5"><testcase name="d" classname="c"/></testsuite>
        </testsuites>""")
    assert counts(report) == (4, 3, 1, 0, 0)
    assert report.cases[0].file == "tests/test_a.py" and report.cases[0].id == "tests/test_a.py::a"
    assert report.duration_seconds == 2.5  # no time on <testsuites>: sum of the top-level suites


def test_junit_files_resolved_from_pytest_classnames():
    report = parse_report_text(
        '<testsuite><testcase classname="tests.unit.0105_test_handlers" name="t1"/>'
        '<testcase classname="tests.unit.0105_test_handlers.TestClass" name="t2"/>'
        '<testcase classname="other" name="t3"/></testsuite>',
        files=["tests/unit/0105_test_handlers.py"],
    )
    assert [c.file for c in report.cases] == ["tests/unit/0105_test_handlers.py"] * 2 + [None]
    assert report.cases[0].id == "tests/unit/0105_test_handlers.py::t1"
    assert report.cases[1].id == "tests/unit/0105_test_handlers.py::TestClass::t2"
    assert report.cases[2].id == "other::t3"


def test_summary_attributes_do_not_override_the_cases():
    report = parse_report_text('<testsuite tests="99" failures="7"><testcase name="a"/></testsuite>')
    assert counts(report) == (1, 1, 0, 0, 0)


@pytest.mark.parametrize("xml", ["<testsuites/>", '<testsuite name="empty" tests="0"></testsuite>',
                                 '<test-run total="0"></test-run>'])
def test_zero_tests_is_a_real_zero(xml):
    report = parse_report_text(xml)
    assert report is not None
    assert counts(report) == (0, 0, 0, 0, 0)
    assert report.to_json()["tests"] == 0


def test_malformed_xml_names_the_file(tmp_path):
    path = tmp_path / "unit-0000-0099.xml"
    path.write_text('<testsuite><testcase name="a"></testsuite>')
    with pytest.raises(ReportError, match="unit-0000-0099.xml.*not well-formed"):
        parse_report(path)
    with pytest.raises(ReportError, match="missing.xml: no such report"):
        parse_report(tmp_path / "missing.xml")
    path.write_text("")
    with pytest.raises(ReportError, match="unit-0000-0099.xml"):
        parse_report(path)


def test_unknown_root_and_dtd_are_refused(tmp_path):
    path = tmp_path / "r.xml"
    path.write_text("<html><body/></html>")
    with pytest.raises(ReportError, match=r"r.xml: unknown report format: root element <html>"):
        parse_report(path)
    path.write_text('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY a "aaaa">]><testsuite><testcase name="&a;"/></testsuite>')
    with pytest.raises(ReportError, match="r.xml: DOCTYPE"):
        parse_report(path)


# --------------------------------------------------------------------------- NUnit


NUNIT3 = """<?xml version="1.0" encoding="utf-8"?>
<test-run id="0" testcasecount="6" result="Failed" total="6" passed="2" failed="2" skipped="1" duration="1.25">
  <test-suite type="Assembly" name="App.Tests.dll">
    <test-suite type="TestFixture" name="MathTests" fullname="App.Tests.MathTests">
      <test-case result="Passed" duration="0.012" name="Adds" fullname="App.Tests.MathTests.Adds" id="1"/>
      <test-case id="2" fullname="App.Tests.MathTests.Divides" name="Divides" duration="0.5" result="Failed">
        <failure>
          <message><![CDATA[Expected: 2
  But was:  3]]></message>
          <stack-trace><![CDATA[at App.Tests.MathTests.Divides()]]></stack-trace>
        </failure>
      </test-case>
      <test-case result="Failed" label="Error" name="Throws" fullname="App.Tests.MathTests.Throws" duration="0.1">
        <failure><message>System.NullReferenceException</message></failure>
      </test-case>
      <test-suite type="ParameterizedMethod" name="Param">
        <test-case name="Param(1)" fullname="App.Tests.MathTests.Param(1)" result="Passed" duration="0.001"/>
      </test-suite>
    </test-suite>
    <test-suite type="TestFixture" name="Other">
      <test-case name="Later" result="Skipped" label="Ignored" classname="App.Tests.Other">
        <reason><message>not yet</message></reason>
      </test-case>
      <test-case name="Maybe" result="Inconclusive" classname="App.Tests.Other"/>
    </test-suite>
  </test-suite>
</test-run>"""


def test_nunit3_counts_order_independent_attributes_and_messages(tmp_path):
    path = tmp_path / "nunit.xml"
    path.write_text(NUNIT3)
    report = parse_report(path)
    assert report.format == "nunit3"
    assert counts(report) == (6, 2, 1, 1, 2)
    assert report.duration_seconds == 1.25
    by_name = {c.name: c for c in report.cases}
    assert by_name["Adds"].classname == "App.Tests.MathTests"
    assert by_name["Divides"].status == "failed"
    assert by_name["Divides"].message.startswith("Expected: 2")
    assert by_name["Throws"].status == "error"
    assert by_name["Later"].message == "not yet"
    assert by_name["Maybe"].status == "skipped"
    assert by_name["Param(1)"].duration == 0.001
    assert [c.id for c in report.failures()] == [
        "App.Tests.MathTests::Divides", "App.Tests.MathTests::Throws"]


def test_nunit2_results():
    report = parse_report_text("""
        <test-results name="x.dll" total="3" failures="1" not-run="1" date="2024-01-01" time="12:00:01">
          <test-suite name="x.dll" time="0.40"><results>
            <test-case executed="True" result="Success" success="True" time="0.1" name="NS.C.Passes"/>
            <test-case name="NS.C.Fails" result="Failure" executed="True" time="0.2">
              <failure><message>bad</message></failure></test-case>
            <test-case name="NS.C.Skip" executed="False" result="Ignored"><reason><message>later</message></reason></test-case>
          </results></test-suite>
        </test-results>""")
    assert report.format == "nunit2"
    assert counts(report) == (3, 1, 1, 0, 1)
    assert report.duration_seconds == 0.4
    assert report.failures()[0].id == "NS.C::Fails" and report.failures()[0].message == "bad"


# --------------------------------------------------------------------------- coverage


def test_cobertura_coverage(tmp_path):
    path = tmp_path / "cov.xml"
    assert read_coverage(path) is None  # the suite wrote none
    path.write_text('<coverage line-rate="0.8512" branch-rate="0" version="7"><packages/></coverage>')
    assert read_coverage(path) == 85.12
    path.write_text('<coverage lines-covered="3" lines-valid="4" line-rate="0.1"/>')
    assert read_coverage(path) == 75.0  # exact numbers win over the rounded rate
    path.write_text("<testsuite/>")
    with pytest.raises(ReportError, match="cov.xml: not a Cobertura"):
        read_coverage(path)
    path.write_text("<coverage")
    with pytest.raises(ReportError, match="cov.xml"):
        read_coverage(path)
