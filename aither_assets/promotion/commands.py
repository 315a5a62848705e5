"""Commands in PR comments:

- ``/approve <ring> [sha256:<digest>]``
- ``/promote <ring> [--break-glass] [reason]`` (break-glass: into a frozen ring, repository admins only)
- ``/rollback <ring> [#PR] <reason>``: put ``ring`` back on its last good digest, or on PR's build
- ``/hold <reason>`` and ``/unhold <reason>``: hold (release) every build of the PR the comment is on

The comment text is hostile. The grammar is strict: a command is a whole line of its own, starting
at the line's first character, lowercase; ring names must be on the operator's ladder; a digest
is ``sha256:`` and 12-64 hex characters; a reason is printable text of at most 200 characters.
Lines inside fenced code blocks, quotes (``>``) and indented code are not commands (someone
quoting or documenting a command does not issue it). At most one command per comment: a second
one is reported, not run, so one comment never means two actions.

Rollback, hold and unhold need a reason (they are recorded with it); promote keeps its optional one.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

VERBS = ("approve", "promote", "rollback", "hold", "unhold")
BREAK_GLASS_FLAG = "--break-glass"
MAX_REASON = 200
MAX_BODY = 65536  # GitHub's own limit on a comment body

_COMMAND = re.compile(r"^/(?P<verb>[a-z]+)(?P<rest>(?:[ \t].*)?)$")
_RING = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{12,64}$")
_PR = re.compile(r"^#([1-9][0-9]{0,8})$")
_FENCE = re.compile(r"^ {0,3}(```|~~~)")


@dataclass(frozen=True)
class Command:
    verb: str  # approve | promote | rollback | hold | unhold
    ring: str | None  # None for hold and unhold (they are about the PR's build, in every ring)
    digest: str | None = None  # approve: the digest named, if any
    reason: str = ""  # the rest of the line
    break_glass: bool = False  # promote: --break-glass
    to_pr: int | None = None  # rollback: the PR whose build to go back to (#N); None: the last good one

    @property
    def label(self) -> str:
        """``/verb ring`` (only validated parts: safe to quote in a reply)."""
        return f"/{self.verb} {self.ring}" if self.ring else f"/{self.verb}"


@dataclass(frozen=True)
class Parsed:
    """What a comment asks for: at most one command, and the problems to answer with."""

    command: Command | None
    problems: tuple[str, ...] = ()

    @property
    def mentions_command(self) -> bool:
        return self.command is not None or bool(self.problems)


def _printable(text: str) -> bool:
    return all(unicodedata.category(ch)[0] != "C" for ch in text)


def command_lines(body: str) -> list[str]:
    """The lines of ``body`` that could be commands: outside code blocks and quotes, starting with '/'."""
    lines, fenced = [], None
    for line in body[:MAX_BODY].splitlines():
        fence = _FENCE.match(line)
        if fence:
            fenced = None if fenced == fence.group(1) else (fenced or fence.group(1))
            continue
        if fenced or line.startswith((">", "    ", "\t")):
            continue
        if line.startswith("/"):
            lines.append(line.rstrip())
    return lines


def parse_line(line: str, ladder: tuple[str, ...]) -> Command | str | None:
    """A Command, a problem (str) for a malformed known command, or None for a line that is no command."""
    match = _COMMAND.match(line)
    if not match:
        return None
    verb, rest = match.group("verb"), match.group("rest").strip()
    if verb not in VERBS:
        return None  # "/something" we do not handle: not ours to answer
    words = rest.split()
    if verb in ("hold", "unhold"):
        return _reasoned(verb, None, words)
    if not words:
        return f"/{verb} needs a ring: /{verb} <ring>, with <ring> one of {', '.join(ladder)}"
    ring = words[0]
    if not _RING.match(ring) or ring not in ladder:
        shown = ring if _RING.match(ring) else "(a malformed name)"
        return f"/{verb}: unknown ring {shown}; the rings are {', '.join(ladder)}"
    if verb == "approve":
        if len(words) > 2 or (len(words) == 2 and not _DIGEST.match(words[1])):
            return "/approve takes a ring and optionally the digest approved: /approve <ring> [sha256:<hex>]"
        return Command("approve", ring, digest=words[1] if len(words) == 2 else None)
    if verb == "rollback":
        to_pr = None
        if len(words) > 1 and words[1].startswith("#"):
            match = _PR.match(words[1])
            if not match:
                return "/rollback: name the PR to go back to as #<number>: /rollback <ring> [#PR] <reason>"
            to_pr = int(match.group(1))
        command = _reasoned(verb, ring, words[2 if to_pr else 1:])
        return command if isinstance(command, str) else Command("rollback", ring, reason=command.reason, to_pr=to_pr)
    break_glass = len(words) > 1 and words[1] == BREAK_GLASS_FLAG
    reason = " ".join(words[2 if break_glass else 1:])
    if len(reason) > MAX_REASON or not _printable(reason):
        return f"/promote: the reason must be printable text of at most {MAX_REASON} characters"
    if break_glass and not reason:
        return "/promote --break-glass needs a reason: /promote <ring> --break-glass <reason>"
    return Command("promote", ring, reason=reason, break_glass=break_glass)


def _reasoned(verb: str, ring: str | None, words: list[str]) -> Command | str:
    """A command whose reason is required (rollback, hold, unhold)."""
    reason = " ".join(words)
    usage = f"/{verb} {'<ring> [#PR] ' if verb == 'rollback' else ''}<reason>"
    if not reason:
        return f"/{verb} needs a reason: {usage}"
    if len(reason) > MAX_REASON or not _printable(reason):
        return f"/{verb}: the reason must be printable text of at most {MAX_REASON} characters"
    return Command(verb, ring, reason=reason)


def parse_comment(body: str, ladder: tuple[str, ...]) -> Parsed:
    """The one command of a comment (the first valid one) and the problems of the others."""
    command: Command | None = None
    problems: list[str] = []
    for line in command_lines(body):
        parsed = parse_line(line, ladder)
        if parsed is None:
            continue
        if isinstance(parsed, str):
            problems.append(parsed)
        elif command is None:
            command = parsed
        else:
            problems.append(f"one command per comment: {parsed.label} was not run")
    return Parsed(command, tuple(problems))
