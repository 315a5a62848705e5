"""Unit 0100-0199: the HTML page and the version payload."""

from app import __version__
from app.config import load_settings
from app.items import Item
from app.render import render_index, version_payload


def test_page_shows_deployment_metadata(settings):
    page = render_index(settings)
    assert page.startswith("<!DOCTYPE html>")
    assert '<dd id="pr-number">42</dd>' in page
    assert '<dd id="commit-sha">0123456789abcdef0123456789abcdef01234567</dd>' in page
    assert '<dd id="base-ref">main</dd>' in page
    assert "<title>sample-app PR #42</title>" in page


def test_unset_metadata_shows_as_missing_not_as_a_default():
    page = render_index(load_settings({}))
    assert '<dd id="pr-number"><em>not set</em></dd>' in page
    assert '<dd id="commit-sha"><em>not set</em></dd>' in page
    assert "<title>sample-app</title>" in page


def test_items_are_listed(settings):
    page = render_index(settings, [Item(1, "widget", 2), Item(2, "gadget", 5)])
    assert "<li>widget &times; 2</li>" in page
    assert "<li>gadget &times; 5</li>" in page
    assert "none yet" not in page


def test_empty_item_list(settings):
    assert "<li><em>none yet</em></li>" in render_index(settings)


def test_version_payload(settings):
    assert version_payload(settings) == {
        "app": "sample-app",
        "version": __version__,
        "environment": "pr-42",
        "pr_number": "42",
        "commit_sha": "0123456789abcdef0123456789abcdef01234567",
        "base_ref": "main",
    }


def test_version_payload_uses_null_for_unset_values():
    payload = version_payload(load_settings({}))
    assert payload["pr_number"] is None
    assert payload["commit_sha"] is None
    assert payload["base_ref"] is None
