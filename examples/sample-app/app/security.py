"""HTTP hardening: response security headers and an input sanitizer.

The sanitizer normalizes text; it does **not** HTML-escape. Escaping happens at output
time (``app.render``), so that stored values stay what the user meant.
"""

from __future__ import annotations

import base64
import hashlib
import re
import unicodedata

# C0/C1 control characters except tab/newline, zero-width and bidirectional-override marks
_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
_WHITESPACE = re.compile(r"\s+")


def sanitize_text(value: str, max_length: int | None = None) -> str:
    """Return ``value`` as one clean line of text.

    Unicode is NFC-normalized, control and invisible/bidi-override characters are
    removed, runs of whitespace become one space, and the ends are stripped. With
    ``max_length`` the result is cut to that many characters.
    """
    if not isinstance(value, str):
        raise TypeError(f"expected str, got {type(value).__name__}")
    text = unicodedata.normalize("NFC", value)
    text = _INVISIBLE.sub("", text)
    text = _WHITESPACE.sub(" ", text).strip()
    if max_length is not None:
        text = text[:max_length].rstrip()
    return text


def style_source(style: str) -> str:
    """CSP source expression allowing exactly one inline ``<style>`` body."""
    digest = hashlib.sha256(style.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(*inline_styles: str) -> str:
    """A strict policy: nothing may load except the given inline styles."""
    styles = " ".join(style_source(s) for s in inline_styles) or "'none'"
    return "; ".join(
        [
            "default-src 'none'",
            f"style-src {styles}",
            "base-uri 'none'",
            "form-action 'none'",
            "frame-ancestors 'none'",
        ]
    )


def security_headers(csp: str | None = None) -> dict[str, str]:
    """Headers every response carries."""
    return {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": csp or content_security_policy(),
        "Referrer-Policy": "no-referrer",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), geolocation=(), microphone=()",
        "Cache-Control": "no-store",
    }
