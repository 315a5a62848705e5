"""Shared fixtures for every suite of the sample app."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.config import Settings, load_settings
from app.handlers import App
from app.items import ItemStore

REPO_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The sample repository's root folder."""
    return REPO_ROOT


@pytest.fixture
def settings() -> Settings:
    """Settings as a PR deployment would have them."""
    return load_settings(
        {
            "PORT": "8000",
            "APP_ENV": "pr-42",
            "PR_NUMBER": "42",
            "PR_TITLE": "Add item quantities",
            "COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
            "BASE_REF": "main",
        }
    )


@pytest.fixture
def app(settings: Settings) -> App:
    """The router with a small store, no sockets involved."""
    return App(settings, ItemStore(max_items=3))


def find_free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    """A TCP port that was free a moment ago on 127.0.0.1."""
    return find_free_port()
