"""Domain: security. Untrusted PR metadata and item names never become markup."""

import html
import json

import pytest

from app.config import load_settings
from app.handlers import App

PAYLOADS = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' onmouseover='alert(1)",
    "</title><script>alert(document.cookie)</script>",
    "&lt;already-escaped&gt;",
]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("variable", ["PR_NUMBER", "PR_TITLE", "COMMIT_SHA", "BASE_REF"])
def test_pr_metadata_is_escaped_on_the_page(variable, payload):
    page = App(load_settings({variable: payload})).handle("GET", "/", {}).body.decode()
    assert payload not in page
    assert html.escape(payload, quote=True) in page
    assert "<script>" not in page


def test_title_like_input_is_escaped_in_the_title_element():
    page = App(load_settings({"PR_NUMBER": "1</title><script>x()</script>"})).handle("GET", "/", {}).body.decode()
    assert "<title>sample-app PR #1&lt;/title&gt;&lt;script&gt;x()&lt;/script&gt;</title>" in page


def test_item_names_are_escaped_on_the_page():
    app = App(load_settings({}))
    created = app.handle(
        "POST", "/api/items", {"Content-Type": "application/json"}, json.dumps({"name": PAYLOADS[1]}).encode()
    )
    assert created.status == 201
    page = app.handle("GET", "/", {}).body.decode()
    assert "<img" not in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize(
    ("method", "target", "headers", "body"),
    [
        ("GET", "/", {}, b""),
        ("GET", "/health", {}, b""),
        ("GET", "/api/version", {}, b""),
        ("GET", "/missing", {}, b""),
        ("POST", "/api/items", {"Content-Type": "application/json"}, b"{bad"),
    ],
)
def test_every_response_is_hardened(method, target, headers, body):
    response = App(load_settings({})).handle(method, target, headers, body)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.headers["Cache-Control"] == "no-store"


def test_json_responses_are_not_sniffable_as_html():
    app = App(load_settings({"PR_TITLE": "<script>"}))
    response = app.handle("GET", "/api/version", {})
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_request_size_is_limited():
    huge = json.dumps({"name": "a" * 100_000}).encode()
    response = App(load_settings({})).handle("POST", "/api/items", {"Content-Type": "application/json"}, huge)
    assert response.status == 413
