"""Fixtures for tests that need a real Docker engine (marked ``docker``)."""

from __future__ import annotations

import pytest

from aither_assets.images.base import docker_available


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a running Docker engine (skipped cleanly when none answers)")


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The engine's version; skips the test when no Docker engine answers."""
    ok, detail = docker_available()
    if not ok:
        pytest.skip(f"no Docker engine answers: {detail}")
    return detail
