from __future__ import annotations

import pytest

from aither_assets.dashboard import Links

from .helpers import summary

GENERATED = "2026-11-24T08:00:00+00:00"


@pytest.fixture
def links() -> Links:
    return Links(dagster_ui="http://127.0.0.1:3000", pages_base="https://acme.github.io/sample-app")


@pytest.fixture(scope="session")
def demo() -> dict:
    return summary()
