"""GitHub Actions ``${{ }}`` expressions, read without running anything.

Two uses:

* :func:`references` lists the ``needs.<job>``, ``steps.<id>``, ``inputs.<name>`` and
  ``secrets.<name>`` an expression names (string literals are not looked into);
* :func:`evaluate` computes an expression *symbolically* for one triggering event: values
  known before the run (a literal, the workflow's name, an input's default) are text, the
  rest are :class:`Sym` placeholders that stand for "the same value for every workflow of
  this event" (``github.ref``) or "unique to this run" (``github.run_id``). Two concurrency
  groups that evaluate to equal tuples are the same group at run time.

A small recursive-descent parser over a bounded expression (no ``eval``); anything it does
not understand evaluates to :data:`UNKNOWN` and the caller stays silent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.DOTALL)
_STRING = re.compile(r"'(?:[^']|'')*'")
_REFERENCE = re.compile(
    r"(?<![\w.\-])(needs|steps|inputs|secrets)\s*(?:\.\s*([A-Za-z_][A-Za-z0-9_-]*)|\[\s*'([^']*)'\s*\])")
#: Longer expressions are not evaluated (a hostile file may hold megabytes of parentheses).
MAX_EXPRESSION_CHARS = 2000
_MAX_DEPTH = 40


@dataclass(frozen=True)
class Sym:
    """A value only known at run time; equal names mean equal values within one comparison."""

    name: str
    #: False when the value may be empty (an event field that is absent for some payloads)
    present: bool = True


Part = str | Sym
Value = tuple[Part, ...]


class _Unknown:
    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()


def expressions(text: str) -> list[tuple[int, str]]:
    """``(offset of "${{", inner text)`` for every expression in a value."""
    return [(m.start(), m.group(1)) for m in EXPRESSION.finditer(text)]


def blank_strings(expr: str) -> str:
    """The expression with string literals' content replaced by spaces (same offsets)."""
    return _STRING.sub(lambda m: "'" + " " * (len(m.group(0)) - 2) + "'", expr)


def references(expr: str) -> list[tuple[int, str, str, str]]:
    """``(offset, context, name, text as written)`` for ``needs.x``, ``steps.x``, ``inputs.x``, ``secrets.x``."""
    # Matched on the text with strings blanked; names in `needs['x']` are read back from the original.
    return [(m.start(), m.group(1), m.group(2) or (expr[m.start(3):m.end(3)] if m.group(3) is not None else ""),
             expr[m.start():m.end()]) for m in _REFERENCE.finditer(blank_strings(expr))]


# -- evaluation ---------------------------------------------------------------------------
_TOKEN = re.compile(r"""
    \s*(?:
      (?P<str>'(?:[^']|'')*')
    | (?P<num>-?\d+(?:\.\d+)?)
    | (?P<op>\|\||&&|==|!=|<=|>=|<|>|!|\(|\)|,)
    | (?P<path>[A-Za-z_][A-Za-z0-9_-]*(?:\s*\.\s*(?:[A-Za-z_][A-Za-z0-9_-]*|\*)|\s*\[\s*'[^']*'\s*\])*)
    )""", re.VERBOSE)


def tokens(expr: str) -> list[tuple[str, str]] | None:
    out = []
    at = 0
    text = expr.rstrip()
    while at < len(text):
        m = _TOKEN.match(text, at)
        if m is None or m.end() == at:
            return None
        kind = m.lastgroup or ""
        value = m.group(kind)
        if kind == "path":
            value = re.sub(r"\s*\[\s*'([^']*)'\s*\]", r".\1", re.sub(r"\s*\.\s*", ".", value)).lower()
        out.append((kind, value))
        at = m.end()
    return out


Resolver = Callable[[str], "Value | _Unknown"]


def evaluate(expr: str, resolve: Resolver) -> Value | _Unknown:
    """The symbolic value of one expression (the text between ``${{`` and ``}}``)."""
    if len(expr) > MAX_EXPRESSION_CHARS:
        return UNKNOWN
    toks = tokens(expr)
    if not toks:
        return UNKNOWN
    parser = _Parser(toks, resolve)
    try:
        value = parser.parse_or(0)
    except _Unparsable:
        return UNKNOWN
    return value if parser.at == len(toks) else UNKNOWN


def evaluate_template(text: str, resolve: Resolver) -> Value | _Unknown:
    """A value with ``${{ }}`` parts in it (``ci-${{ github.ref }}``), as a tuple of parts."""
    parts: list[Part] = []
    at = 0
    for m in EXPRESSION.finditer(text):
        parts.append(text[at:m.start()])
        value = evaluate(m.group(1), resolve)
        if value is UNKNOWN:
            return UNKNOWN
        parts.extend(value)  # type: ignore[arg-type]
        at = m.end()
    parts.append(text[at:])
    return normalize(parts)


def normalize(parts: list[Part] | Value) -> Value:
    """Adjacent texts merged, empty texts dropped: equal groups compare equal."""
    out: list[Part] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        out.append(part)
    return tuple(out)


def truth(value: Value) -> bool | None:
    """True/False when known, None when it depends on the run."""
    if not value:
        return False
    if any(isinstance(p, str) and p for p in value) or any(isinstance(p, Sym) and p.present for p in value):
        if value in (("false",), ("0",)):
            return False
        return True
    return None


def render(value: Value) -> str:
    return "".join(p if isinstance(p, str) else "<" + p.name + ">" for p in value)


class _Unparsable(Exception):
    pass


class _Parser:
    def __init__(self, toks: list[tuple[str, str]], resolve: Resolver):
        self.toks = toks
        self.at = 0
        self.resolve = resolve

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.at] if self.at < len(self.toks) else None

    def take(self, op: str | None = None) -> tuple[str, str]:
        tok = self.peek()
        if tok is None or (op is not None and tok != ("op", op)):
            raise _Unparsable(op)
        self.at += 1
        return tok

    def parse_or(self, depth: int) -> Value:
        left = self.parse_and(depth)
        while self.peek() == ("op", "||"):
            self.take()
            right = self.parse_and(depth)
            known = truth(left)
            left = left if known else right if known is False else (Sym(f"({render(left)}||{render(right)})",
                                                                        truth(right) is True),)
        return left

    def parse_and(self, depth: int) -> Value:
        left = self.parse_cmp(depth)
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.parse_cmp(depth)
            known = truth(left)
            left = right if known else left if known is False else (Sym(f"({render(left)}&&{render(right)})",
                                                                        False),)
        return left

    def parse_cmp(self, depth: int) -> Value:
        left = self.parse_unary(depth)
        tok = self.peek()
        if tok and tok[0] == "op" and tok[1] in ("==", "!=", "<", "<=", ">", ">="):
            self.take()
            right = self.parse_unary(depth)
            if tok[1] in ("==", "!=") and all(isinstance(p, str) for p in (*left, *right)):
                same = "".join(left).lower() == "".join(right).lower()  # type: ignore[arg-type]
                return ("true" if same == (tok[1] == "==") else "false",)
            return (Sym(f"({render(left)}{tok[1]}{render(right)})", False),)
        return left

    def parse_unary(self, depth: int) -> Value:
        if depth > _MAX_DEPTH:
            raise _Unparsable("too deep")
        if self.peek() == ("op", "!"):
            self.take()
            known = truth(self.parse_unary(depth + 1))
            return (Sym("(!...)", False),) if known is None else ("false" if known else "true",)
        return self.parse_primary(depth + 1)

    def parse_primary(self, depth: int) -> Value:
        kind, text = self.take()
        if kind == "str":
            return normalize([text[1:-1].replace("''", "'")])
        if kind == "num":
            return (text,)
        if kind == "op" and text == "(":
            value = self.parse_or(depth)
            self.take(")")
            return value
        if kind != "path":
            raise _Unparsable(text)
        if self.peek() == ("op", "("):
            return self._call(text, depth)
        if text in ("true", "false"):
            return (text,)
        if text == "null":
            return ()
        value = self.resolve(text)
        if value is UNKNOWN:
            raise _Unparsable(text)
        return value  # type: ignore[return-value]

    def _call(self, name: str, depth: int) -> Value:
        self.take("(")
        args: list[Value] = []
        if self.peek() != ("op", ")"):
            args.append(self.parse_or(depth))
            while self.peek() == ("op", ","):
                self.take()
                args.append(self.parse_or(depth))
        self.take(")")
        if name == "format" and args and all(isinstance(p, str) for p in args[0]):
            return _format("".join(args[0]), args[1:])  # type: ignore[arg-type]
        raise _Unparsable(name)


def _format(template: str, args: list[Value]) -> Value:
    parts: list[Part] = []
    for piece in re.split(r"(\{\d+\})", template.replace("{{", "\x00").replace("}}", "\x01")):
        m = re.fullmatch(r"\{(\d+)\}", piece)
        if m and int(m.group(1)) < len(args):
            parts.extend(args[int(m.group(1))])
        else:
            parts.append(piece.replace("\x00", "{").replace("\x01", "}"))
    return normalize(parts)
