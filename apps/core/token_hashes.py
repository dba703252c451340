"""Secrets that are shown once and kept only as a hash: API keys and session tokens.

SHA-256 rather than a slow password hash: these secrets are long random values that cannot
be guessed, and they are checked on every request. Compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac


def token_hash(token: str) -> str:
    """The hex SHA-256 of `token`, as stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_hashes_equal(presented_hash: str, stored_hash: str) -> bool:
    """Two hashes compared in constant time."""
    return hmac.compare_digest(presented_hash, stored_hash)


def token_matches(token: str | None, stored_hash: str) -> bool:
    """Whether the presented token is the one whose hash is stored (constant time); no token never is."""
    if not token:
        return False
    return token_hashes_equal(token_hash(token), stored_hash)
