"""A PostgreSQL server of the dev stack: Debian's package, a cluster in a folder of ours, no systemd.

For the production profile's demo and the tests of what runs on Postgres. A real deployment uses
its own managed database; this only gives the same server software on one machine.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

#: PostgreSQL refuses to run as root: the cluster belongs to this user (Debian's package creates it).
SERVER_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries here, or the server did not start (the message says which)."""


def server_bin_dir() -> Path:
    """Debian's server binaries (initdb, postgres, pg_ctl), newest major version first."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]), reverse=True)
    if not found:
        raise PostgresUnavailable("no PostgreSQL server here: install Debian's package (scripts/bootstrap does)")
    return Path(found[0]).parent


@dataclass(frozen=True)
class PostgresServer:
    data_dir: Path
    port: int
    database: str = "aither"

    @property
    def url(self) -> str:
        return f"postgresql://{SERVER_USER}@127.0.0.1:{self.port}/{self.database}"

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", SERVER_USER, "--", *argv]


def _chown_to_server_user(path: Path) -> None:
    if os.geteuid() == 0:
        user = pwd.getpwnam(SERVER_USER)
        os.chown(path, user.pw_uid, user.pw_gid)


def start(data_dir: Path, port: int, database: str = "aither", timeout: float = 30.0) -> PostgresServer:
    """Initialise the cluster in ``data_dir`` the first time, start it on 127.0.0.1:``port``, create ``database``."""
    bin_dir = server_bin_dir()
    server = PostgresServer(data_dir, port, database)
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    if not (data_dir / "PG_VERSION").exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        _chown_to_server_user(data_dir)
        # trust on loopback only: a dev cluster that listens nowhere else.
        subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", SERVER_USER,
                                        "--auth=trust", "-E", "UTF8", "--no-sync"]),
                       check=True, capture_output=True, text=True)
    server.log_file.touch()
    _chown_to_server_user(server.log_file)
    subprocess.run(_as_server_user([
        str(bin_dir / "pg_ctl"), "-D", str(data_dir), "-l", str(server.log_file), "-w", "-t", str(int(timeout)),
        "-o", f"-p {port} -c listen_addresses=127.0.0.1 -k {data_dir} -c fsync=off -c max_connections=200",
        "start",
    ]), check=False, capture_output=True, text=True)
    deadline = time.monotonic() + timeout
    while not _ready(server):
        if time.monotonic() > deadline:
            tail = server.log_file.read_text(errors="replace")[-2000:]
            raise PostgresUnavailable(f"PostgreSQL in {data_dir} did not start on port {port}; log:\n{tail}")
        time.sleep(0.2)
    _create_database(server)
    return server


def _ready(server: PostgresServer) -> bool:
    import psycopg2

    try:
        psycopg2.connect(server.url.rsplit("/", 1)[0] + "/postgres", connect_timeout=2).close()
    except psycopg2.OperationalError:
        return False
    return True


def _create_database(server: PostgresServer) -> None:
    import psycopg2

    conn = psycopg2.connect(server.url.rsplit("/", 1)[0] + "/postgres")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (server.database,))
            if cur.fetchone() is None:
                cur.execute(f'CREATE DATABASE "{server.database}"')  # our own constant name, never input
    finally:
        conn.close()


def stop(server: PostgresServer, timeout: float = 60.0) -> None:
    """Stop the server (fast shutdown); its data stays in ``data_dir``. When pg_ctl leaves it running, the
    postmaster gets SIGINT (fast shutdown) itself, then SIGQUIT; what pg_ctl said goes to the server's log."""
    result = subprocess.run(_as_server_user([str(server_bin_dir() / "pg_ctl"), "-D", str(server.data_dir), "-m",
                                             "fast", "-w", "-t", str(int(timeout)), "stop"]),
                            check=False, capture_output=True, text=True)
    pid_file = server.data_dir / "postmaster.pid"
    if result.returncode == 0 or not pid_file.exists():
        return
    with contextlib.suppress(OSError):
        with open(server.log_file, "a") as log:
            log.write(f"aither: pg_ctl stop exited {result.returncode}: {result.stdout} {result.stderr}\n")
    for sig in (signal.SIGINT, signal.SIGQUIT):
        try:
            os.kill(int(pid_file.read_text().splitlines()[0]), sig)
        except (OSError, ValueError, IndexError):
            return  # no pid file or no such process: stopped
        deadline = time.monotonic() + timeout / 2
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        if not pid_file.exists():
            return


@contextlib.contextmanager
def running(data_dir: Path, port: int, database: str = "aither") -> Iterator[PostgresServer]:
    server = start(data_dir, port, database)
    try:
        yield server
    finally:
        stop(server)


def available() -> bool:
    try:
        server_bin_dir()
    except PostgresUnavailable:
        return False
    return shutil.which("runuser") is not None or os.geteuid() != 0
