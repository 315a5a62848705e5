"""Fixtures for the feedback tests: the demo summary's PR entries, re-pointed at local PRs."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import pytest

from aither_assets_tests.conftest import OWNER, REPO, GitHubFixture

SUMMARY = Path(__file__).resolve().parents[1] / "fixtures" / "demo_summary.json"

SUCCESS_PR = 1  # every stage ran and passed
DOCS_ONLY_PR = 4  # the plan skipped everything but validation
FAILING_TEST_PR = 5  # one unit test fails: the image and later stages never ran
VALIDATION_FAILED_PR = 6  # miswired workflows
HOSTILE_PR = 7  # a title full of HTML/Markdown/shell
DRAFT_PR = 8  # not run: draft


@pytest.fixture(scope="session")
def summary_entries() -> dict[int, dict[str, Any]]:
    return {entry["number"]: entry for entry in json.loads(SUMMARY.read_text())["prs"]}


@pytest.fixture
def entry(summary_entries) -> Callable[[int], dict[str, Any]]:
    """A fresh deep copy of one fixture PR's entry (tests may change it)."""
    return lambda number: copy.deepcopy(summary_entries[number])


def on_local_pr(entry: dict[str, Any], github: GitHubFixture, number: int) -> dict[str, Any]:
    """The fixture entry re-pointed at a PR of the local server (its number and real head SHA)."""
    head = github.store.get_pr(OWNER, REPO, number)["head_sha"]
    old = entry["head_sha"]
    entry = json.loads(json.dumps(entry).replace(old, head))
    entry["number"] = number
    return entry


@pytest.fixture
def local_entry(entry, github) -> Callable[..., dict[str, Any]]:
    """``local_entry(fixture_number, pr=None)``: a fixture entry on a (new) local PR."""
    def make(fixture_number: int, pr: int | None = None) -> dict[str, Any]:
        number = pr if pr is not None else github.open_pr(f"feedback-{fixture_number}")
        return on_local_pr(entry(fixture_number), github, number)
    return make
