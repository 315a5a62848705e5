"""GitHub's webhook signature: HMAC-SHA256 of the exact body bytes, keyed with the hook's secret."""

import hashlib
import hmac

HEADER = "X-Hub-Signature-256"


def sign(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str | None) -> bool:
    """Constant-time comparison, as GitHub advises; a missing or malformed header never verifies."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    return hmac.compare_digest(sign(secret, body), header)
