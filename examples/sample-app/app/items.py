"""In-memory item store with input validation.

Items are ``{"name": str, "quantity": int}``; the store gives each an increasing id.
The store is process-local and thread-safe: the server handles requests in threads.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass

from app.security import sanitize_text

MAX_NAME_LENGTH = 100
MAX_QUANTITY = 1_000_000
ALLOWED_FIELDS = frozenset({"name", "quantity"})


class ValidationError(ValueError):
    """The payload is not a valid item; ``errors`` maps each bad field to a message."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {message}" for field, message in sorted(errors.items())))
        self.errors = errors


class StoreFullError(RuntimeError):
    """The store holds its maximum number of items."""


@dataclass(frozen=True)
class Item:
    """One stored item."""

    id: int
    name: str
    quantity: int

    def to_dict(self) -> dict[str, object]:
        """JSON-ready representation."""
        return asdict(self)


def validate_item(payload: object) -> tuple[str, int]:
    """Check a decoded JSON payload and return ``(name, quantity)``.

    ``name`` is required, sanitized (see :func:`app.security.sanitize_text`) and must be
    1-100 characters afterwards; ``quantity`` is optional (default 1) and must be an
    integer from 0 to 1,000,000 (booleans are rejected). Unknown fields are rejected.
    """
    if not isinstance(payload, dict):
        raise ValidationError({"body": "must be a JSON object"})
    errors: dict[str, str] = {}
    unknown = sorted(set(payload) - ALLOWED_FIELDS)
    if unknown:
        errors["body"] = f"unknown fields: {', '.join(map(str, unknown))}"

    name = payload.get("name")
    if not isinstance(name, str):
        errors["name"] = "is required and must be a string"
        name = ""
    else:
        name = sanitize_text(name)
        if not name:
            errors["name"] = "must not be blank"
        elif len(name) > MAX_NAME_LENGTH:
            errors["name"] = f"must be at most {MAX_NAME_LENGTH} characters"

    quantity = payload.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        errors["quantity"] = "must be an integer"
    elif not 0 <= quantity <= MAX_QUANTITY:
        errors["quantity"] = f"must be between 0 and {MAX_QUANTITY}"

    if errors:
        raise ValidationError(errors)
    return name, quantity


class ItemStore:
    """Thread-safe, bounded, in-memory list of items."""

    def __init__(self, max_items: int = 100) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.max_items = max_items
        self._items: dict[int, Item] = {}
        self._next_id = 1
        self._lock = threading.Lock()

    def add(self, name: str, quantity: int = 1) -> Item:
        """Store a (validated) item and return it with its new id."""
        with self._lock:
            if len(self._items) >= self.max_items:
                raise StoreFullError(f"the store holds its maximum of {self.max_items} items")
            item = Item(id=self._next_id, name=name, quantity=quantity)
            self._items[item.id] = item
            self._next_id += 1
            return item

    def create(self, payload: object) -> Item:
        """Validate a decoded JSON payload and store it."""
        name, quantity = validate_item(payload)
        return self.add(name, quantity)

    def get(self, item_id: int) -> Item | None:
        """The item with ``item_id``, or ``None``."""
        with self._lock:
            return self._items.get(item_id)

    def list(self) -> list[Item]:
        """All items, oldest first."""
        with self._lock:
            return list(self._items.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
