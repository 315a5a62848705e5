"""Reading /proc/<pid>/stat (Linux): one parser for the fields we use.

The command name sits in parentheses and may itself hold spaces or parentheses, so the
fields are counted from the last ')'.
"""

from __future__ import annotations

from pathlib import Path

# Indexes into stat_fields(): field 3 of proc(5) is index 0.
STATE, PPID, PGRP, START_TICKS = 0, 1, 2, 19


def stat_fields(pid: int | str) -> list[str] | None:
    """The fields after the command name, or None when the process is gone (or unreadable)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return fields if len(fields) > START_TICKS else None


def is_dead(fields: list[str] | None) -> bool:
    """Gone, or a zombie waiting to be reaped."""
    return fields is None or fields[STATE] in ("Z", "X")
