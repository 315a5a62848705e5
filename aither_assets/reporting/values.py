"""Reading figures out of materialization metadata turned JSON: a wrong type is missing, not zero."""

from __future__ import annotations

from typing import Any


def json_int(value: Any) -> int | None:
    """An integer figure; bools, non-integral floats and anything else are missing (None)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
