"""Unit 0100-0199: routing and status codes of App.handle (no sockets)."""

import json

from app.handlers import MAX_BODY_BYTES

JSON = {"Content-Type": "application/json"}


def body(response):
    return json.loads(response.body)


def test_health(app):
    response = app.handle("GET", "/health", {})
    assert response.status == 200
    assert body(response) == {"status": "ok"}
    assert response.headers["Content-Type"] == "application/json"


def test_version(app):
    response = app.handle("GET", "/api/version", {})
    assert response.status == 200
    payload = body(response)
    assert payload["pr_number"] == "42"
    assert payload["base_ref"] == "main"
    assert payload["commit_sha"].startswith("0123456789abcdef")


def test_create_then_list_and_get(app):
    created = app.handle("POST", "/api/items", JSON, b'{"name": "widget", "quantity": 2}')
    assert created.status == 201
    assert created.headers["Location"] == "/api/items/1"
    assert body(created) == {"id": 1, "name": "widget", "quantity": 2}
    assert body(app.handle("GET", "/api/items", {}))["items"] == [{"id": 1, "name": "widget", "quantity": 2}]
    assert body(app.handle("GET", "/api/items/1", {}))["name"] == "widget"


def test_content_type_header_is_case_insensitive_and_may_have_charset(app):
    headers = {"content-type": "Application/JSON; charset=utf-8"}
    assert app.handle("POST", "/api/items", headers, b'{"name": "a"}').status == 201


def test_rejects_wrong_content_type(app):
    assert app.handle("POST", "/api/items", {"Content-Type": "text/plain"}, b'{"name": "a"}').status == 415


def test_rejects_invalid_json(app):
    assert app.handle("POST", "/api/items", JSON, b"{not json").status == 400
    assert app.handle("POST", "/api/items", JSON, b"\xff\xfe").status == 400


def test_validation_errors_are_422_with_fields(app):
    response = app.handle("POST", "/api/items", JSON, b'{"name": "", "quantity": -1}')
    assert response.status == 422
    assert set(body(response)["fields"]) == {"name", "quantity"}


def test_oversized_body_is_413(app):
    payload = json.dumps({"name": "x" * (MAX_BODY_BYTES + 1)}).encode()
    assert app.handle("POST", "/api/items", JSON, payload).status == 413


def test_full_store_is_507(app):
    for n in range(3):
        assert app.handle("POST", "/api/items", JSON, json.dumps({"name": f"i{n}"}).encode()).status == 201
    assert app.handle("POST", "/api/items", JSON, b'{"name": "too many"}').status == 507


def test_unknown_paths_and_items_are_404(app):
    assert app.handle("GET", "/nope", {}).status == 404
    assert app.handle("GET", "/api/items/999", {}).status == 404
    assert app.handle("GET", "/api/items/0", {}).status == 404


def test_query_string_is_ignored(app):
    assert app.handle("GET", "/health?verbose=1", {}).status == 200


def test_wrong_method_is_405_with_allow_header(app):
    response = app.handle("DELETE", "/api/items", {})
    assert response.status == 405
    assert response.headers["Allow"] == "GET, POST"
    assert body(response)["allowed"] == ["GET", "POST"]
