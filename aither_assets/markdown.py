"""Escaping for Markdown that shows PR-controlled text (Dagster UI metadata, PR comments)."""

from __future__ import annotations

import html
import re

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def md_escape(text: str) -> str:
    """Text that renders literally in GitHub/CommonMark Markdown and cannot inject HTML."""
    text = html.escape(text, quote=False)  # quotes are harmless in text; &#x27; would show literally
    text = _MD_SPECIAL.sub(r"\\\1", text)
    # Newlines would end a table cell or start a new block.
    return re.sub(r"[\r\n]+", " ", text)


def md_table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; cells must already be escaped (or be trusted text)."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
