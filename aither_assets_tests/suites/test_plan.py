"""plan_suites: unit ranges by file prefix, named suites, uncovered files, empty suites, symlinks."""

from __future__ import annotations

import os

import pytest

from aither_assets.config.pipeline import NamedSuite, UnitTests
from aither_assets.suites.plan import plan_suites, unit_prefix

from .helpers import suite_config, write_tree

UNIT = UnitTests(paths=("tests/unit",), ranges=("0000-0099", "0100-0199", "0200-0299"))


@pytest.fixture
def repo(tmp_path):
    return write_tree(tmp_path, {
        "tests/unit/0001_test_a.py": "",
        "tests/unit/0099_test_b.py": "",
        "tests/unit/0100_test_c.py": "",
        "tests/unit/0105_test_handlers.py": "",
        "tests/unit/sub/0210_test_deep.py": "",
        "tests/unit/0350_test_x.py": "",          # no declared range holds 0350
        "tests/unit/test_unprefixed.py": "",      # under unit paths, no prefix
        "tests/unit/conftest.py": "",             # not a test file
        "tests/unit/helpers.py": "",
        "tests/domains/security/test_sec.py": "",
        "tests/domains/security/data.json": "{}",
        "tests/domains/config/test_cfg.py": "",
        "tests/integration/test_service.py": "",
        "tests/test_orphan.py": "",               # discovered, in no suite
        "app/test_not_discovered.py": "",         # outside the discover globs
    })


def test_unit_prefix():
    assert unit_prefix("tests/unit/0105_test_handlers.py") == 105
    assert unit_prefix("0000_x.py") == 0
    assert unit_prefix("01050_x.py") is None  # five digits is not a 4-digit prefix
    assert unit_prefix("test_0105.py") is None


def test_ranges_domains_integration_and_uncovered(repo):
    config = suite_config(
        unit=UNIT,
        domains=(NamedSuite(name="security", paths=("tests/domains/security",)),
                 NamedSuite(name="configuration", paths=("tests/domains/config",), timeout_seconds=5)),
        integration=(NamedSuite(name="service", paths=("tests/integration",), command=["python", "x", "{junit}"]),),
    )
    plan = plan_suites(config, repo)
    got = {s.key: s.files for s in plan.suites}
    assert list(got) == ["unit-0000-0099", "unit-0100-0199", "unit-0200-0299",
                         "domain-security", "domain-configuration", "integration-service"]
    assert got["unit-0000-0099"] == ("tests/unit/0001_test_a.py", "tests/unit/0099_test_b.py")
    assert got["unit-0100-0199"] == ("tests/unit/0100_test_c.py", "tests/unit/0105_test_handlers.py")
    assert got["unit-0200-0299"] == ("tests/unit/sub/0210_test_deep.py",)
    assert got["domain-security"] == ("tests/domains/security/test_sec.py",)
    assert got["domain-configuration"] == ("tests/domains/config/test_cfg.py",)
    assert got["integration-service"] == ("tests/integration/test_service.py",)
    # 0350 falls in no declared range: reported, not silently skipped
    assert plan.uncovered == ("tests/test_orphan.py", "tests/unit/0350_test_x.py", "tests/unit/test_unprefixed.py")
    assert "app/test_not_discovered.py" not in plan.discovered
    assert plan.empty == ()
    # overrides
    assert plan.suite("configuration").timeout == 5
    assert plan.suite("security").timeout == 60
    assert plan.suite("service").argv_template == ("python", "x", "{junit}")
    assert plan.suite("0000-0099").argv_template == tuple(config.command)
    assert plan.to_json()["uncovered"] == list(plan.uncovered)


def test_unit_override_and_empty_range(tmp_path):
    write_tree(tmp_path, {"tests/unit/0001_test_a.py": ""})
    unit = UnitTests(paths=("tests/unit",), ranges=("0000-0099", "0500-0599"), timeout_seconds=7,
                     command=["python", "-m", "pytest", "--junitxml={junit}", "{files}"])
    plan = plan_suites(suite_config(unit=unit), tmp_path)
    assert [s.key for s in plan.empty] == ["unit-0500-0599"]
    first = plan.suite("0000-0099")
    assert first.timeout == 7 and first.argv_template[-1] == "{files}" and "-q" not in first.argv_template
    assert plan.uncovered == ()


def test_no_unit_section_leaves_prefixed_files_uncovered(tmp_path):
    write_tree(tmp_path, {"tests/unit/0001_test_a.py": "", "tests/domains/x/test_x.py": ""})
    plan = plan_suites(suite_config(domains=(NamedSuite(name="x", paths=("tests/domains/x",)),)), tmp_path)
    assert plan.uncovered == ("tests/unit/0001_test_a.py",)


def test_prefixed_file_outside_narrowed_globs_is_still_a_unit_test(tmp_path):
    write_tree(tmp_path, {"tests/unit/0001_checks.py": "", "tests/test_a.py": ""})
    plan = plan_suites(suite_config(discover=("tests/**/test_*.py",), unit=UNIT), tmp_path)
    assert plan.suite("0000-0099").files == ("tests/unit/0001_checks.py",)
    assert plan.uncovered == ("tests/test_a.py",)


def test_paths_escaping_the_root_through_symlinks_are_ignored(tmp_path):
    outside = write_tree(tmp_path / "outside", {"0002_test_evil.py": "", "test_evil.py": "", "more/test_m.py": ""})
    repo = write_tree(tmp_path / "repo", {"tests/unit/0001_test_a.py": "", "tests/domains/sec/test_s.py": ""})
    os.symlink(outside / "0002_test_evil.py", repo / "tests/unit/0002_test_evil.py")
    os.symlink(outside / "test_evil.py", repo / "tests/domains/sec/test_evil.py")
    os.symlink(outside / "more", repo / "tests/domains/sec/more")
    os.symlink(outside, repo / "tests/domains/linked")  # a whole suite path that leaves the repo
    os.symlink(repo / "tests/unit/0001_test_a.py", repo / "tests/unit/0003_test_alias.py")  # stays inside: kept
    config = suite_config(unit=UNIT, domains=(NamedSuite(name="sec", paths=("tests/domains/sec",)),
                                              NamedSuite(name="linked", paths=("tests/domains/linked",))))
    plan = plan_suites(config, repo)
    assert plan.suite("0000-0099").files == ("tests/unit/0001_test_a.py", "tests/unit/0003_test_alias.py")
    assert plan.suite("sec").files == ("tests/domains/sec/test_s.py",)
    assert plan.suite("linked").files == ()
    assert not any("evil" in f or "test_m" in f for f in plan.discovered)
    assert plan.uncovered == ()


def test_sample_plan_covers_every_test_file():
    from aither_assets.config.pipeline import load_pipeline_config

    from .helpers import SAMPLE

    plan = plan_suites(load_pipeline_config(SAMPLE).tests, SAMPLE)
    assert [s.name for s in plan.suites] == ["0000-0099", "0100-0199", "0200-0299", "configuration",
                                             "infrastructure", "security", "service"]
    assert plan.uncovered == () and plan.empty == ()
    assert plan.suite("0100-0199").files == ("tests/unit/0105_test_handlers.py", "tests/unit/0110_test_render.py")
