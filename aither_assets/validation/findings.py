"""What every check returns: a finding about one place in the repository."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITIES: tuple[Severity, ...] = ("error", "warning", "info")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

#: Messages quote PR-controlled text; a huge one must not blow up a PR comment or the UI.
MAX_MESSAGE_CHARS = 500
# C0/C1 controls (ANSI escapes, NUL, bidi overrides) would garble terminals and logs.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    rule: str
    severity: Severity
    message: str
    tool: str = "aither"
    #: the tool's own severity and confidence (zizmor: high/medium/low...), kept as it said them
    tool_severity: str | None = None
    confidence: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        # Only a tool that rates its findings has these; ours stay in the short form.
        for key in ("tool_severity", "confidence"):
            if data[key] is None:
                del data[key]
        return data

    def sort_key(self) -> tuple:
        return (_RANK.get(self.severity, len(SEVERITIES)), self.file, self.line or 0, self.rule, self.message)


def clean_text(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """One printable line of at most ``limit`` characters, valid UTF-8 whatever the input was."""
    # File names that are not UTF-8 arrive as surrogate escapes, which cannot be encoded later.
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    text = _CONTROL.sub("\N{REPLACEMENT CHARACTER}", text.replace("\n", " ").replace("\t", " "))
    return text if len(text) <= limit else text[: limit - 3] + "..."


def make(file: str, line: int | None, rule: str, severity: Severity, message: str, tool: str = "aither",
         tool_severity: str | None = None, confidence: str | None = None) -> Finding:
    """A finding whose path and message are safe to store, print and render."""
    return Finding(clean_text(file, 1000), line, rule, severity, clean_text(message), tool,
                   clean_text(tool_severity, 20) if tool_severity else None,
                   clean_text(confidence, 20) if confidence else None)


def tail(text: str, lines: int = 15, chars: int = 800) -> str:
    """The end of a tool's stderr: that is where the reason for a failure usually is."""
    kept = " | ".join(text.strip().splitlines()[-lines:])
    return kept[-chars:]
