"""Config errors a person can act on: every problem is one line,
``<file>:<line>: <field>: <message> (got <value>)``, so an engineer can jump to the spot.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

_MAX_VALUE_CHARS = 60


@dataclass(frozen=True)
class ConfigIssue:
    file: str
    field: str
    message: str
    line: int | None = None
    value: Any = None
    has_value: bool = False

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.field or '<top level>'}: {self.message}"
        if self.has_value:
            text += f" (got {short_repr(self.value)})"
        return text


class ConfigError(ValueError):
    """A configuration file is invalid; ``issues`` lists every problem found."""

    def __init__(self, issues: Iterable[ConfigIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(i) for i in self.issues))


def short_repr(value: Any) -> str:
    text = repr(value)
    if len(text) > _MAX_VALUE_CHARS:
        text = text[: _MAX_VALUE_CHARS - 3] + "..."
    # One line per error, whatever the value holds.
    return text.replace("\n", "\\n")
