"""Unit 0200-0299: security headers, CSP and the input sanitizer."""

import base64
import hashlib
import re

import pytest

from app.render import STYLE, render_index
from app.security import content_security_policy, sanitize_text, security_headers, style_source


def test_baseline_headers():
    headers = security_headers()
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


def test_csp_without_inline_styles_allows_no_style():
    assert "style-src 'none'" in content_security_policy()


def test_style_source_is_the_sha256_of_the_style():
    expected = base64.b64encode(hashlib.sha256(b"body{}").digest()).decode()
    assert style_source("body{}") == f"'sha256-{expected}'"


def test_every_inline_style_of_the_page_is_allowed_by_the_response_csp(app, settings):
    csp = app.handle("GET", "/", {}).headers["Content-Security-Policy"]
    styles = re.findall(r"<style>(.*?)</style>", render_index(settings), re.S)
    assert styles == [STYLE]
    assert all(style_source(style) in csp for style in styles)
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain", "plain"),
        ("  padded  ", "padded"),
        ("multi\n\nline\ttext", "multi line text"),
        ("nul\x00byte", "nulbyte"),
        ("bidi\u202eoverride\u2066", "bidioverride"),
        ("zero\u200bwidth", "zerowidth"),
        ("cafe\u0301", "caf\u00e9"),  # NFC
        ("<b>kept</b>", "<b>kept</b>"),  # escaping is the renderer's job
    ],
)
def test_sanitize_text(raw, clean):
    assert sanitize_text(raw) == clean


def test_sanitize_text_caps_length():
    assert sanitize_text("abcdef", max_length=3) == "abc"


def test_sanitize_text_rejects_non_strings():
    with pytest.raises(TypeError):
        sanitize_text(b"bytes")  # type: ignore[arg-type]
