"""Unit 0000-0099: item validation and the in-memory store."""

import threading

import pytest

from app.items import MAX_NAME_LENGTH, ItemStore, StoreFullError, ValidationError, validate_item


def test_valid_item_and_default_quantity():
    assert validate_item({"name": "widget", "quantity": 3}) == ("widget", 3)
    assert validate_item({"name": "widget"}) == ("widget", 1)


def test_name_is_sanitized():
    assert validate_item({"name": "  big \n\t widget\x07 "}) == ("big widget", 1)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([], "body"),
        ("widget", "body"),
        ({}, "name"),
        ({"name": 5}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * (MAX_NAME_LENGTH + 1)}, "name"),
        ({"name": "ok", "quantity": True}, "quantity"),
        ({"name": "ok", "quantity": "3"}, "quantity"),
        ({"name": "ok", "quantity": -1}, "quantity"),
        ({"name": "ok", "quantity": 10**7}, "quantity"),
        ({"name": "ok", "price": 3}, "body"),
    ],
)
def test_invalid_payloads_name_the_field(payload, field):
    with pytest.raises(ValidationError) as info:
        validate_item(payload)
    assert field in info.value.errors


def test_all_errors_are_reported_at_once():
    with pytest.raises(ValidationError) as info:
        validate_item({"quantity": -5, "colour": "red"})
    assert set(info.value.errors) == {"name", "quantity", "body"}


def test_store_assigns_increasing_ids_and_lists_in_order():
    store = ItemStore()
    first = store.add("a", 1)
    second = store.create({"name": "b", "quantity": 2})
    assert (first.id, second.id) == (1, 2)
    assert store.list() == [first, second]
    assert store.get(2) == second
    assert store.get(3) is None
    assert second.to_dict() == {"id": 2, "name": "b", "quantity": 2}


def test_store_is_bounded():
    store = ItemStore(max_items=1)
    store.add("only")
    with pytest.raises(StoreFullError):
        store.add("one too many")
    assert len(store) == 1


def test_store_is_thread_safe():
    store = ItemStore(max_items=400)
    threads = [threading.Thread(target=lambda: [store.add("x") for _ in range(50)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(item.id for item in store.list()) == list(range(1, 401))
