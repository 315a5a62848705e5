"""runtime/prcommand.py: the one runner of PR-controlled commands, with real subprocesses."""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

import pytest

from aither_assets.runtime import cancellation
from aither_assets.runtime.prcommand import CommandRequest, run_argv, run_command
from aither_assets_tests.suites.helpers import VENV_BIN, wait_dead


def test_background_process_left_by_a_finished_command_is_killed(tmp_path):
    proc = run_argv([
        "python", "-c",
        "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); print(p.pid)",
    ], tmp_path, timeout=20)
    assert proc.exit_code == 0 and not proc.timed_out
    assert wait_dead([int(proc.stdout.strip())]) == []


def test_path_is_configurable(tmp_path):
    show = ["python", "-c", "import os, sys; print(sys.executable); print(os.environ['PATH'])"]
    proc = run_argv(show, tmp_path, timeout=20)
    assert Path(proc.stdout.splitlines()[0]).parent == Path(VENV_BIN)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    proc = run_argv(show, tmp_path, timeout=20, path=[bin_dir, "/usr/bin"])
    assert proc.stdout.splitlines()[1] == f"{bin_dir}:/usr/bin"
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = run_argv(["python", "-c", "pass"], tmp_path, timeout=20, path=[empty])
    assert not proc.started and "could not start 'python'" in proc.start_error
    nul = run_argv(["python", "-c", "print(1)\x00"], tmp_path, timeout=20)
    assert not nul.started and "null byte" in nul.start_error


def test_a_request_in_a_result_out(tmp_path):
    request = CommandRequest(["python", "-c", "import os; print(os.environ['EXTRA'])"], tmp_path, 20, env={"EXTRA": "1"})
    result = run_command(request)
    assert result.argv == ("python", "-c", "import os; print(os.environ['EXTRA'])")
    assert result.exit_code == 0 and result.stdout == "1\n" and "EXTRA" in result.env_keys


def test_cancelling_the_run_kills_the_command_and_its_group(tmp_path):
    pidfile = tmp_path / "pids"
    code = ("import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
            f"open({str(pidfile)!r}, 'w').write(str(p.pid)); time.sleep(60)")

    def cancel_once_started() -> None:  # as Dagster's SIGINT handler would, from another thread
        while not pidfile.exists() or not pidfile.read_text():
            time.sleep(0.02)
        cancellation.request()

    threading.Thread(target=cancel_once_started, daemon=True).start()
    try:
        with pytest.raises(cancellation.Cancelled):
            run_command(CommandRequest(["python", "-c", code], tmp_path, 60))
    finally:
        cancellation.reset()
    assert wait_dead([int(pidfile.read_text())]) == []
