"""Peak memory of the embedded stack's processes, sampled from /proc (VmHWM and VmRSS).

A background thread walks the process tree under the stack's processes every ``interval``
seconds and keeps, per process, the latest VmHWM (the kernel's peak resident set size since
the process started, so the last sample before a process exits is its peak) and the largest
VmRSS seen while sampling. Processes are sorted into roles by their command line:

* ``daemon``: ``dagster-daemon run``;
* ``code server``: ``dagster api grpc`` (the daemon starts it; sensors run in it; it is
  replaced when its heartbeat lapses, so there can be more than one over time);
* ``run launcher``: the daemon's forkserver (aither_assets/runtime/run_launcher.py), which has Dagster
  imported and forks the run workers;
* ``run worker``: a process that executes a run (one per run, threaded executor): a child of
  the run launcher's forkserver, or of the code server with Dagster's default launcher; the run
  id comes from the compute-log ``tail`` it starts;
* ``run child``: what a run worker starts (test suites, linters, git, docker CLI, log tails);
* ``local github`` / ``registry``: the stack's stand-ins for GitHub and the registry.
"""

from __future__ import annotations

import os
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from aither_assets.runtime.procstat import PPID, stat_fields

_RUN_ID = re.compile(r"/storage/([0-9a-f-]{36})/compute_logs/")


def _status(pid: int) -> dict[str, int]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmHWM:", "VmRSS:")):
                key, value = line.split(":", 1)
                out[key] = int(value.split()[0])  # kB
    except (OSError, ValueError):
        pass
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = stat_fields(entry.name)
        if fields is not None:
            children.setdefault(int(fields[PPID]), []).append(int(entry.name))
    return children


@dataclass
class Proc:
    pid: int
    role: str
    cmd: str
    parent: int
    first_seen: float
    last_seen: float = 0.0
    hwm_kb: int = 0
    max_rss_kb: int = 0
    run_id: str | None = None

    def to_json(self) -> dict:
        return {"pid": self.pid, "role": self.role, "cmd": self.cmd[:160], "run_id": self.run_id,
                "peak_rss_mib": round(self.hwm_kb / 1024, 1), "max_sampled_rss_mib": round(self.max_rss_kb / 1024, 1),
                "seen_seconds": round(self.last_seen - self.first_seen, 1)}


@dataclass
class Sampler:
    """Samples the trees under ``roots`` (name -> pid) until stopped."""

    roots: dict[str, int]
    interval: float = 0.25
    procs: dict[int, Proc] = field(default_factory=dict)
    samples: int = 0
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> "Sampler":
        self._thread = threading.Thread(target=self._loop, name="memory-sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def _role(self, pid: int, cmd: str, parent_role: str | None) -> str:
        if ("dagster-daemon" in cmd or "-m dagster._daemon" in cmd) and " run" in cmd:  # alone, or under dagster dev
            return "daemon"
        if "dagster api grpc" in cmd or "dagster code-server" in cmd:
            return "code server"
        if "dagster-webserver" in cmd or "dagster_webserver" in cmd:
            return "webserver"
        if "multiprocessing.forkserver" in cmd and parent_role == "daemon":
            return "run launcher"
        if parent_role in ("code server", "run launcher"):
            if "resource_tracker" in cmd:
                return "code server helper"
            return "run worker"
        if parent_role in ("run worker", "run child"):
            return "run child"
        return parent_role or "other"

    def sample(self) -> None:
        now = time.time()
        children = _children_map()
        stack = [(pid, name, None) for name, pid in self.roots.items()]
        while stack:
            pid, root_name, parent = stack.pop()
            cmd = _cmdline(pid)
            if not cmd:
                continue
            proc = self.procs.get(pid)
            if proc is None or proc.cmd != cmd:  # new process (or a pid reused by another one)
                if parent is None:
                    role = self._role(pid, cmd, None)
                    role = root_name if role == "other" else role
                else:
                    role = self._role(pid, cmd, self.procs[parent].role if parent in self.procs else None)
                proc = Proc(pid, role, cmd, parent or 0, now)
                self.procs[pid] = proc
            status = _status(pid)
            proc.last_seen = now
            proc.hwm_kb = max(proc.hwm_kb, status.get("VmHWM", 0))
            proc.max_rss_kb = max(proc.max_rss_kb, status.get("VmRSS", 0))
            if proc.role == "run child" and parent in self.procs and self.procs[parent].role == "run worker":
                match = _RUN_ID.search(cmd)
                if match and not self.procs[parent].run_id:
                    self.procs[parent].run_id = match.group(1)
            for child in children.get(pid, []):
                stack.append((child, root_name, pid))
        self.samples += 1

    def by_role(self, role: str) -> list[Proc]:
        return [p for p in self.procs.values() if p.role == role]
