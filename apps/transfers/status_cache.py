"""The hot status of a data-transfer session, in the cache, for the displays that poll it.

A display polls GET /api/v1/session/{id}/status every few seconds while its WebSocket is
down, so the answer is served from the cache: the token hash (checked in constant time),
the status, expires_at and the serialized body, keyed by session id.

Kept exact by the transition that changes it: `status_changed` runs in the session's
after_transition hook, drops the entry at once and writes the new one when the transaction
commits. Readers only ever `add` (never overwrite), so a reader that read the old row before
the commit cannot replace the newer entry. Entries of open sessions live OPEN_TTL seconds at
most, which bounds any staleness should the cache have missed a write (it degrades to misses
while Redis is unreachable); final statuses never change.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.core.cache import cache
from django.db import transaction

OPEN_TTL = 60
FINAL_TTL = 3600


def _key(session_id: Any) -> str:
    return f"transfers:status:{session_id}"


def _entry(session: Any) -> tuple[dict[str, Any], int]:
    from apps.transfers.api.serializers import SessionStatusSerializer

    entry = {
        "token_hash": session.token_hash,
        "status": session.status,
        "open": session.is_open,
        "expires_at": session.expires_at.timestamp(),
        "body": dict(SessionStatusSerializer(session).data),
    }
    return entry, OPEN_TTL if session.is_open else FINAL_TTL


def status_cached(session_id: Any) -> dict[str, Any] | None:
    return cache.get(_key(session_id))


def status_remember(session: Any) -> None:
    """After a read from the database: add, never overwrite a newer entry from a transition."""
    entry, ttl = _entry(session)
    cache.add(_key(session.pk), entry, ttl)


def status_changed(session: Any) -> None:
    """In the transaction of a transition: drop the entry now, write the new one on commit."""
    key = _key(session.pk)
    cache.delete(key)
    entry, ttl = _entry(session)
    transaction.on_commit(lambda: cache.set(key, entry, ttl))


def token_matches(token: str | None, token_hash: str) -> bool:
    """Constant-time comparison of the presented token's hash with the stored one (the one
    token check of sessions: the cached hot path and the database path both use it)."""
    if not token:
        return False
    return hmac.compare_digest(hashlib.sha256(token.encode()).hexdigest(), token_hash)
