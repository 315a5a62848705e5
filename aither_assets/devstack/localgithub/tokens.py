"""Token generation and hashing.

Only SHA-256 hashes of tokens are stored (and logged), so neither the
database nor the request log ever holds a usable credential.
"""

from __future__ import annotations

import hashlib
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits


def new_token(prefix: str) -> str:
    """A token shaped like GitHub's: `ghp_` (personal) or `ghs_` (installation) + 36 chars."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(36))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
