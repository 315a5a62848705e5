"""Fixtures for tests that need a real Docker engine (marked ``docker``); skipped cleanly without one."""

from __future__ import annotations

import pytest

from aither_assets_tests.environments.docker_support import (
    docker_engine_fixture,
    previews_fixture,
    sample_images_fixture,
)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "docker: needs a running Docker engine (skipped cleanly when none answers)")


@pytest.fixture(scope="session")
def docker_engine() -> str:
    """The engine's version; skips the test when no Docker engine answers."""
    return docker_engine_fixture()


@pytest.fixture(scope="session")
def sample_images(docker_engine):
    """The sample app built once on the local base image, plus a variant with another image id."""
    yield from sample_images_fixture()


@pytest.fixture
def previews(docker_engine, tmp_path):
    """(PreviewEnvironments for a unique app name, a PortAllocator); containers removed afterwards."""
    yield from previews_fixture(tmp_path)
