"""A hostile PR's test suites, run for real in the sandbox: each is contained, reported, and the next run is fine.

Every attack is an ordinary pytest suite of a PR (``tests/test_attack.py``) run by
``run_suite`` as the pipeline runs it. The attacking test asserts, from inside, that it got
nothing and prints what it saw (``EVIDENCE {json}``); the host checks the same from outside.
"""

from __future__ import annotations

import http.server
import json
import socket
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

from aither_assets.suites.plan import Suite
from aither_assets.suites.runner import SuiteResult, run_suite

from ..suites.helpers import PYTEST_INI, write_tree
from .conftest import leftovers

pytestmark = pytest.mark.docker

PYTEST = ("python", "-m", "pytest", "-q", "-s", "--junitxml={junit}", "{files}")
NORMAL = "def test_fine():\n    assert sum(range(10)) == 45\n"


def run_attack(sandbox, tmp_path: Path, code: str, *, timeout: float = 60, network: str = "none",
               files: dict[str, str] | None = None, name: str = "attack") -> SuiteResult:
    root = write_tree(tmp_path / name, {"pytest.ini": PYTEST_INI, "tests/test_attack.py": code, **(files or {})})
    suite = Suite("domain", name, ("tests/test_attack.py",), PYTEST, timeout, None, network)
    return run_suite(suite, root, tmp_path / f"{name}-out", sandbox=sandbox)


def evidence(result: SuiteResult) -> dict:
    lines = [line for line in result.stdout_tail.splitlines() if line.startswith("EVIDENCE ")]
    assert lines, (result.status, result.message, result.stdout_tail, result.stderr_tail)
    return json.loads(lines[-1].removeprefix("EVIDENCE "))


def assert_contained_and_next_run_fine(sandbox, tmp_path: Path, result: SuiteResult, token: str) -> None:
    """No container of this run is left, the token is nowhere in the result, and an ordinary suite still passes."""
    assert leftovers(sandbox.run_id) == []
    assert token not in json.dumps(result.to_json(with_cases=True))
    after = run_attack(sandbox, tmp_path, NORMAL, name="next")
    assert after.status == "passed" and after.report.passed == 1, (after.message, after.stderr_tail)
    assert after.stopped is None


def test_other_processes_environments_hold_nothing(sandbox, tmp_path, control_token):
    result = run_attack(sandbox, tmp_path, textwrap.dedent("""
        import json, os

        def test_read_every_environ():
            seen = {}
            for pid in filter(str.isdigit, os.listdir("/proc")):
                try:
                    env = open(f"/proc/{pid}/environ", "rb").read()
                    names = sorted(item.split(b"=")[0].decode() for item in env.split(b"\\0") if item)
                except OSError as exc:
                    names = f"unreadable: {exc.strerror}"
                cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()[:80]
                seen[pid] = [cmd, names]
            print("EVIDENCE " + json.dumps(seen))
            names = {n for _, keys in seen.values() if isinstance(keys, list) for n in keys}
            assert not names & {"GITHUB_TOKEN", "AITHER_WEBHOOK_SECRET", "DAGSTER_HOME", "AITHER_CONFIG"}
    """))
    assert result.status == "passed", (result.message, result.stdout_tail)
    seen = evidence(result)
    # Own PID namespace: the launcher (pid 1) and pytest, nothing of the host or the control plane.
    assert "1" in seen and seen["1"][0].startswith("python3 /opt/aither/launch.py")
    assert len(seen) <= 3, seen
    assert all(cmd.startswith(("python3 /opt/aither/launch.py", "python -m pytest")) for cmd, _ in seen.values())
    pytest_env = next(keys for cmd, keys in seen.values() if "pytest" in cmd)
    assert set(pytest_env) == {"PATH", "HOME", "TMPDIR", "LANG", "PYTHONDONTWRITEBYTECODE", "PYTHONUNBUFFERED"}
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


def test_instance_folder_operator_config_and_docker_socket_are_not_there(sandbox, tmp_path, control_token):
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("storage: {}\n")
    operator = tmp_path / "operator.yaml"
    operator.write_text(f"repository: acme/web\n# token {control_token}\n")
    targets = [str(home / "dagster.yaml"), str(operator), str(home), "/var/run/docker.sock", "/run/docker.sock",
               "/etc/shadow", "/root", str(Path.home() / ".docker" / "config.json"), "/proc/1/root/var/run/docker.sock"]
    result = run_attack(sandbox, tmp_path, textwrap.dedent("""
        import json, os, socket

        def test_read_host_paths():
            paths = json.load(open("paths.json"))
            got = {}
            for path in paths:
                try:
                    got[path] = "READ " + (open(path).read(200) if os.path.isfile(path) else str(os.listdir(path)))
                except OSError as exc:
                    got[path] = type(exc).__name__
            for sock in ("/var/run/docker.sock", "/run/docker.sock"):
                try:
                    socket.socket(socket.AF_UNIX).connect(sock)
                    got["connect " + sock] = "CONNECTED"
                except OSError as exc:
                    got["connect " + sock] = type(exc).__name__
            print("EVIDENCE " + json.dumps(got))
            assert not [p for p, v in got.items() if v.startswith(("READ", "CONNECTED"))]
    """), files={"paths.json": json.dumps(targets)})
    assert result.status == "passed", (result.message, result.stdout_tail)
    got = evidence(result)
    assert set(got.values()) <= {"FileNotFoundError", "PermissionError"}, got
    assert got["/var/run/docker.sock"] == "FileNotFoundError" and got[str(operator)] == "FileNotFoundError"
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 - http.server's name
        _Recorder.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"control plane")

    def log_message(self, *args):
        pass


def _serve(address: str) -> tuple[http.server.ThreadingHTTPServer, int]:
    server = http.server.ThreadingHTTPServer((address, 0), _Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


def bridge_gateway() -> str:
    """The host's address on Docker's default bridge (what a container reaches the host by)."""
    out = subprocess.run(["ip", "-4", "-o", "addr", "show", "docker0"], capture_output=True, text=True, check=True)
    return out.stdout.split(" inet ", 1)[1].split("/", 1)[0]


NETWORK_ATTACK = textwrap.dedent("""
    import concurrent.futures, http.server, json, threading, urllib.request

    def attempt(url):
        try:
            return "REACHED " + urllib.request.urlopen(url, timeout=1.5).read(50).decode()
        except OSError as exc:
            return type(exc).__name__ + ": " + str(getattr(exc, "reason", exc))[:60]

    def test_reach_the_control_plane():
        targets = json.load(open("targets.json"))
        with concurrent.futures.ThreadPoolExecutor(len(targets)) as pool:
            got = dict(zip(targets, pool.map(attempt, targets)))
        # loopback inside the container works: an integration suite can start its service and call it
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        got["own loopback"] = urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/pytest.ini",
                                                     timeout=5).status
        print("EVIDENCE " + json.dumps(got))
        assert not [u for u, v in got.items() if str(v).startswith("REACHED")]
""")


@pytest.mark.parametrize("network", ["none", "isolated"])
def test_the_control_plane_cannot_be_reached(sandbox, tmp_path, control_token, network):
    """Stand-ins for the Dagster webserver / local GitHub / registry on the host's loopback and bridge gateway."""
    gateway = bridge_gateway()
    servers = [_serve("127.0.0.1"), _serve(gateway), _serve("0.0.0.0")]
    try:
        (loop, loop_port), (gw, gw_port), (anyaddr, any_port) = servers
        targets = [f"http://127.0.0.1:{loop_port}/", f"http://{gateway}:{gw_port}/", f"http://{gateway}:{any_port}/",
                   f"http://172.18.0.1:{any_port}/"]  # the isolated network's would-be gateway
        # the servers answer from here (so "unreachable" below is the sandbox's doing)
        with socket.create_connection((gateway, gw_port), timeout=2):
            pass
        _Recorder.hits.clear()
        result = run_attack(sandbox, tmp_path, NETWORK_ATTACK, network=network,
                            files={"targets.json": json.dumps(targets)})
    finally:
        for server, _ in servers:
            server.shutdown()
    assert result.status == "passed", (result.message, result.stdout_tail)
    got = evidence(result)
    assert got.pop("own loopback") == 200
    assert all(not v.startswith("REACHED") for v in got.values()) and len(got) == len(targets), got
    assert _Recorder.hits == []  # not one request arrived at any control-plane stand-in
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


def test_writing_outside_the_working_folder_fails(sandbox, tmp_path, control_token):
    result = run_attack(sandbox, tmp_path, textwrap.dedent("""
        import json, os

        def test_write_everywhere():
            got = {}
            for path in ("/etc/evil", "/usr/bin/evil", "/evil", "/opt/aither/launch.py", "/home/evil",
                         "/etc/hosts", "/work/ok", "/tmp/ok"):
                try:
                    with open(path, "a") as handle:
                        handle.write("x")
                    got[path] = "WROTE"
                except OSError as exc:
                    got[path] = type(exc).__name__ + " " + (exc.strerror or "")
            print("EVIDENCE " + json.dumps(got))
            assert [p for p, v in got.items() if v == "WROTE"] == ["/work/ok", "/tmp/ok"]
    """))
    assert result.status == "passed", (result.message, result.stdout_tail)
    got = evidence(result)
    assert "Read-only file system" in got["/etc/evil"] and "Read-only file system" in got["/evil"]
    assert got["/opt/aither/launch.py"] in ("OSError Read-only file system", "PermissionError Permission denied")
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


def test_fork_bomb_hits_the_pids_limit(sandbox, tmp_path, control_token):
    result = run_attack(sandbox, tmp_path, textwrap.dedent("""
        import os, time

        def test_fork_bomb():
            children = 0
            while True:
                try:
                    pid = os.fork()
                except OSError:
                    break
                if pid == 0:
                    time.sleep(600)
                    os._exit(0)
                children += 1
            print(f"EVIDENCE {{\\"children\\": {children}}}")
            assert children > 1000, "the fork bomb was stopped"
    """), timeout=30)
    assert result.stopped == "pids", (result.status, result.message)
    assert result.status in ("failed", "error")
    assert "process limit of 48 reached" in result.message
    assert evidence(result)["children"] < 48
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


def test_filling_the_disk_hits_the_disk_limit(sandbox, tmp_path, control_token):
    result = run_attack(sandbox, tmp_path, textwrap.dedent("""
        def test_fill_the_disk():
            written = 0
            with open("/work/filler", "wb") as handle:
                while written < 1 << 30:
                    handle.write(b"x" * (1 << 20))
                    handle.flush()
                    written += 1 << 20
    """), timeout=30)
    assert result.stopped == "disk", (result.status, result.message)
    # pytest could not even write its report: the disk was full
    assert result.status == "error" and result.message.startswith("stopped by the sandbox: disk limit reached")
    assert "No space left on device" in result.message
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


def test_allocating_beyond_the_memory_limit_is_oom_killed(sandbox, tmp_path, control_token):
    result = run_attack(sandbox, tmp_path, textwrap.dedent("""
        def test_allocate():
            blocks = []
            for _ in range(2048):
                blocks.append(b"x" * (1 << 20))  # written, so resident (a calloc would not be)
    """), timeout=60)
    assert result.stopped == "oom", (result.status, result.message)
    assert result.status == "error" and "memory limit of 192 MiB reached" in result.message
    assert result.exit_code == -9  # SIGKILL from the kernel's OOM killer
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


def test_sleeping_past_the_timeout_is_killed(sandbox, tmp_path, control_token):
    result = run_attack(sandbox, tmp_path, textwrap.dedent("""
        import time

        def test_sleep():
            print("going to sleep", flush=True)
            time.sleep(600)
    """), timeout=3)
    assert result.status == "timeout" and result.stopped == "timeout"
    assert result.message.startswith("suite timed out after 3 s") and "sandbox container was stopped" in result.message
    assert result.duration_seconds < 30 and result.exit_code is None
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


def test_token_shaped_output_is_reported_and_the_real_token_never_visible(sandbox, tmp_path, control_token):
    fake = "ghp_" + "A1b2C3d4" * 4 + "ZzYy"
    result = run_attack(sandbox, tmp_path, textwrap.dedent(f"""
        import os

        def test_print_a_token():
            print("EVIDENCE {{\\"printed\\": \\"{fake}\\"}}")
            print("env", sorted(os.environ))
            assert False, "{fake}"
    """))
    assert result.status == "failed" and result.report.failed == 1
    assert fake in result.stdout_tail and fake in result.failures()[0][1]  # reported as output, like any
    assert "GITHUB_TOKEN" not in result.stdout_tail
    assert "masked" not in (result.message or "")
    assert_contained_and_next_run_fine(sandbox, tmp_path, result, control_token)


def test_a_secret_that_comes_back_is_masked_and_reported(sandbox, tmp_path, control_token):
    """Defence in depth: were the token ever to reach a container (here: planted in the tree), it is masked."""
    result = run_attack(sandbox, tmp_path, textwrap.dedent("""
        def test_echo_a_planted_secret():
            print("EVIDENCE {}")
            print("leak:", open("planted.txt").read())
            assert False, open("planted.txt").read()
    """), files={"planted.txt": control_token})
    assert result.status == "failed"
    assert control_token not in result.stdout_tail and "leak: ***" in result.stdout_tail
    assert control_token not in result.failures()[0][1]
    assert "control-plane secret appeared" in result.message
    assert leftovers(sandbox.run_id) == []
