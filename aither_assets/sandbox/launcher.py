"""The first process (pid 1) of every sandbox container: copied into the runner image, stdlib only.

Protocol. stdin: one JSON line (argv, env, timeout, limits), then a tar of the working tree,
extracted into ``/work`` (a size-limited tmpfs). The command runs there as the container's
unprivileged user with exactly the environment in the header, its stdout/stderr going to
files on ``/run/aither``. When it exits or its time is up, every process left in the
container is killed, and a tar (``status.json``, ``stdout``, ``stderr``, ``results/*``) goes
to stdout as base64 between two marker lines; the container then ends.

Nothing here is trusted by the host. PR code runs as the same user and could forge all of
it, which changes only its own result: the host decides timeouts itself, reads OOM kills
from the engine, and reads the tar member by member (regular files, known names, bounded).
"""

import base64
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time

WORK = "/work"
RUN = "/run/aither"
RESULTS = "/work/.aither/results"
BEGIN = "--aither-sandbox-result-begin--"
END = "--aither-sandbox-result-end--"
#: Free bytes below which a tmpfs counts as full (a write that needed more failed with ENOSPC).
FULL_BELOW = 256 * 1024


def _read_cgroup(*candidates):
    for path in candidates:
        try:
            with open(path) as handle:
                return handle.read()
        except OSError:
            continue
    return ""


def _counter(text, name):
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if key == name and value.strip().isdigit():
            return int(value)
    return 0


def _full(path):
    try:
        stat = os.statvfs(path)
    except OSError:
        return False
    return stat.f_blocks > 0 and stat.f_bavail * stat.f_frsize < FULL_BELOW


def _kill_everything(seconds=3.0):
    """Kill every other process in this PID namespace and reap them (we are its init)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.kill(-1, signal.SIGKILL)  # all processes we may signal, except ourselves
        except OSError:
            pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            return True  # no child left
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


def _tail(path, limit):
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as handle:
            if size > limit:
                handle.seek(size - limit)
            return handle.read(limit), size > limit
    except OSError:
        return b"", False


def _add(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(time.time())
    tar.addfile(info, io.BytesIO(data))


def _extract(stream):
    with tarfile.open(fileobj=stream, mode="r|") as tar:
        try:
            tar.extractall(WORK, filter="data")
        except TypeError:  # a Python without PEP 706; the tar is ours and /work is all we can write
            tar.extractall(WORK)


def main():
    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    status = {"exit_code": None, "timed_out": False, "start_error": None}
    try:
        _extract(stdin)
    except Exception as exc:  # noqa: BLE001 - reported, not raised: the host needs the status
        status["start_error"] = f"could not unpack the working tree: {exc}"
    # A report (or a link) the tree brought along is never read as ours.
    for path in (os.path.dirname(RESULTS), RESULTS):
        if os.path.islink(path) or (os.path.lexists(path) and not os.path.isdir(path)):
            os.unlink(path)
    shutil.rmtree(RESULTS, ignore_errors=True)
    os.makedirs(RESULTS, exist_ok=True)

    timeout = float(header["timeout"])
    started = time.monotonic()
    if status["start_error"] is None:
        with open(f"{RUN}/stdout", "wb") as out, open(f"{RUN}/stderr", "wb") as err:
            try:
                proc = subprocess.Popen(  # argv list, no shell, exactly the header's environment
                    header["argv"], cwd=WORK, env=header["env"], stdin=subprocess.DEVNULL,
                    stdout=out, stderr=err, start_new_session=True, close_fds=True,
                )
            except (OSError, ValueError) as exc:
                why = getattr(exc, "strerror", None) or exc
                status["start_error"] = f"could not start {header['argv'][0]!r}: {why}"
            else:
                status.update(_wait(proc.pid, started + timeout))
    status["duration_seconds"] = round(time.monotonic() - started, 3)
    status["all_killed"] = _kill_everything()
    memory = _read_cgroup("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control")
    pids = _read_cgroup("/sys/fs/cgroup/pids.events", "/sys/fs/cgroup/pids/pids.events")
    status["oom_kills"] = _counter(memory, "oom_kill")
    status["pids_max_hits"] = _counter(pids, "max")
    status["disk_full"] = [path for path in (WORK, "/tmp") if _full(path)]

    limit = int(header["max_output_bytes"])
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name in ("stdout", "stderr"):
            data, cut = _tail(f"{RUN}/{name}", limit)
            status[f"{name}_truncated"] = cut
            _add(tar, name, data)
        left = int(header["max_result_bytes"])
        for name in header.get("collect", []):
            path = os.path.join(RESULTS, name)
            try:
                if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > left:
                    continue
                with open(path, "rb") as handle:
                    data = handle.read(left)
            except OSError:
                continue
            left -= len(data)
            _add(tar, f"results/{name}", data)
        _add(tar, "status.json", json.dumps(status).encode())
    out = sys.stdout
    out.write("\n" + BEGIN + "\n")
    out.write(base64.encodebytes(buffer.getvalue()).decode("ascii"))
    out.write(END + "\n")
    out.flush()
    return 0


def _wait(pid, deadline):
    """Reap children until ours exits (we are init: orphans come to us too) or the deadline passes."""
    while True:
        try:
            reaped, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return {"exit_code": None, "start_error": "the command vanished"}
        if reaped == pid:
            return {"exit_code": os.waitstatus_to_exitcode(code)}
        if reaped:
            continue
        if time.monotonic() >= deadline:
            return {"timed_out": True}
        time.sleep(0.01)


if __name__ == "__main__":
    sys.exit(main())
