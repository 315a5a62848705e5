"""Fixtures: a seeded data dir, a real server on 127.0.0.1:0 and a raw HTTP client."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from aither_assets.devstack.localgithub import LocalGitHub
from aither_assets.devstack.localgithub.server import run_in_thread

OWNER_TOKEN = "ghp_ownerownerownerownerownerownerown1"
OTHER_TOKEN = "ghp_otherotherotherotherotherotherot2"


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    raw: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.raw) if self.raw else None


class Api:
    """Raw HTTP against the server (no client library in between)."""

    def __init__(self, base_url: str, token: str | None = OWNER_TOKEN):
        parts = urlsplit(base_url)
        self.host, self.port, self.prefix = parts.hostname, parts.port, parts.path.rstrip("/")
        self.token = token

    def request(self, method: str, path: str, body: Any = None, token: str | None | bool = True,
                headers: dict[str, str] | None = None, raw: bytes | None = None) -> Reply:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=10)
        all_headers = {"Accept": "application/vnd.github+json", **(headers or {})}
        token = self.token if token is True else token
        if token:
            all_headers["Authorization"] = f"token {token}"
        data = raw if body is None else json.dumps(body).encode()
        if data is not None:
            all_headers["Content-Type"] = "application/json"
        try:
            conn.request(method, self.prefix + path, body=data, headers=all_headers)
            response = conn.getresponse()
            return Reply(response.status, response.headers, response.read())
        finally:
            conn.close()

    def get(self, path: str, **kwargs) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs) -> Reply:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None, **kwargs) -> Reply:
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path: str, **kwargs) -> Reply:
        return self.request("DELETE", path, **kwargs)


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
    return root


SOURCE_FILES = {
    "README.md": "# demo\n",
    "src/app.py": "def main():\n    return 1\n",
    "tests/test_app.py": "def test_main():\n    assert True\n",
    ".github/workflows/ci.yml": "on: push\njobs: {}\n",
}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "gh"


@pytest.fixture
def gh(data_dir: Path, tmp_path: Path) -> LocalGitHub:
    """A store with users alice (owner) and bob, and alice/app seeded from a folder."""
    store = LocalGitHub(data_dir)
    store.create_user("alice", token=OWNER_TOKEN)
    store.create_user("bob", token=OTHER_TOKEN)
    store.create_repo("alice", "app", source_dir=write_tree(tmp_path / "src", SOURCE_FILES))
    return store


@pytest.fixture
def base_url(gh: LocalGitHub, data_dir: Path):
    with run_in_thread(data_dir) as url:
        yield url


@pytest.fixture
def api(base_url: str) -> Api:
    return Api(base_url)


@pytest.fixture
def feature_pr(gh: LocalGitHub) -> int:
    """PR #1 alice/app: feature -> main, modifying, adding and deleting files."""
    gh.commit_files("alice", "app", "feature", {"src/app.py": "def main():\n    return 2\n", "NEW.md": "new\n",
                                                "README.md": None}, "feature work")
    return gh.open_pr("alice", "app", head="feature", base="main", title="Feature", body="Body", user="alice")


