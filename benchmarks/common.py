"""Helpers shared by the benchmarks: statistics, the machine's description, Markdown tables."""

from __future__ import annotations

import datetime as dt
import os
import platform
import statistics
from pathlib import Path
from typing import Iterable


def stats(values: Iterable[float | None]) -> dict | None:
    """median / min / max / n of the values that exist (None when none does)."""
    present = [float(v) for v in values if v is not None]
    if not present:
        return None
    return {"median": round(statistics.median(present), 3), "min": round(min(present), 3),
            "max": round(max(present), 3), "n": len(present)}


def ratio(a: dict | None, b: dict | None) -> float | None:
    if not a or not b or not b["median"]:
        return None
    return round(a["median"] / b["median"], 3)


def fmt(s: dict | None, unit: str = "s", digits: int = 1) -> str:
    """``12.3 s (10.1-14.0)`` for a stats dict, ``-`` when missing."""
    if not s:
        return "-"
    if s.get("n", 1) == 1:
        return f"{s['median']:.{digits}f} {unit}".strip()
    return f"{s['median']:.{digits}f} {unit} ({s['min']:.{digits}f} to {s['max']:.{digits}f})".replace("  ", " ")


def loadavg() -> list[float] | None:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return None


def machine() -> dict:
    cpu_model = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_kib = int(line.split()[1])
    except OSError:
        pass
    return {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kib / 1024 / 1024, 1) if mem_kib else None,
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": loadavg(),
    }


def md_table(header: list[str], rows: list[list[object]]) -> str:
    def cell(value: object) -> str:
        return "-" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)
