"""A session's PostgreSQL server (Debian's package, started by the dev stack's helper) and fresh databases."""

import os
import pwd
import re
import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import pytest

from aither_assets.devstack import postgres


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_server_fixture():
    if not postgres.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed: scripts/bootstrap installs it on CI")
        pytest.skip("PostgreSQL is not installed (scripts/bootstrap installs it)")
    # Not under pytest's tmp_path: the server runs as the postgres user, who cannot enter root's 0700 folders.
    top = Path(tempfile.mkdtemp(prefix="aither-pg-"))
    if os.geteuid() == 0:
        user = pwd.getpwnam(postgres.SERVER_USER)
        os.chown(top, user.pw_uid, user.pw_gid)
    server = postgres.start(top / "data", free_port())
    try:
        yield server
    finally:
        postgres.stop(server)
        shutil.rmtree(top, ignore_errors=True)


def fresh_database(server, test_name: str) -> str:
    import psycopg2

    name = "t_" + re.sub(r"[^a-z0-9]", "_", test_name.lower())[:40] + "_" + uuid.uuid4().hex[:8]
    conn = psycopg2.connect(server.url)
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
    finally:
        conn.close()
    return server.url.rsplit("/", 1)[0] + "/" + name
