"""The hot status of a data-transfer session, in the cache, for the displays that poll it.

A display polls GET /api/v1/session/{id}/status every few seconds while its WebSocket is
down, so the answer is served from the cache: the token hash (checked in constant time),
the status, expires_at and the serialized body, keyed by session id.

Kept exact by apps.core.exact_cache: `status_changed` runs in every transition of a session
(apps.transfers.services.sessions_changed, an audit subscriber), drops the entry at once and writes the new
one when the transaction commits. Readers only ever `add` (never overwrite), so a reader that
read the old row before the commit cannot replace the newer entry. Entries of open sessions
live OPEN_TTL seconds at most, which bounds any staleness should the cache have missed a write
(it degrades to misses while Redis is unreachable); final statuses never change.
"""

from __future__ import annotations

import time
from typing import Any

from rest_framework.renderers import JSONRenderer

from apps.core.exact_cache import ExactCache
from apps.core.token_hashes import token_matches
from apps.transfers.api.serializers import SessionStatusSerializer

OPEN_TTL = 60
FINAL_TTL = 3600
STATUSES = ExactCache("transfers:status", OPEN_TTL)


def status_key(session_id: Any) -> str:
    return STATUSES.key(session_id)


def _entry(session: Any) -> tuple[dict[str, Any], int]:
    body = dict(SessionStatusSerializer(session).data)
    entry = {
        "token_hash": session.token_hash,
        "status": session.status,
        "open": session.is_open,
        "expires_at": session.expires_at.timestamp(),
        "body": body,
        # Rendered once here, as the API's renderer renders it, so a hot poll sends bytes.
        "json": JSONRenderer().render(body),
    }
    return entry, OPEN_TTL if session.is_open else FINAL_TTL


def status_cached(session_id: Any) -> dict[str, Any] | None:
    return STATUSES.get(session_id)


def status_servable(entry: dict[str, Any] | None, token: str | None) -> bytes | None:
    """The cached body to answer with, or None when the database must answer: no entry, an
    open session past expires_at (the read-time guard expires it there), or a token that
    does not match (the database path answers 401 in the API's error shape)."""
    if entry is None or "json" not in entry:
        return None
    if entry["open"] and entry["expires_at"] <= time.time():
        return None
    if not token_matches(token, entry["token_hash"]):
        return None
    return entry["json"]


def status_remember(session: Any) -> None:
    """After a read from the database: add, never overwrite a newer entry from a transition."""
    entry, ttl = _entry(session)
    STATUSES.remember(session.pk, entry, ttl)


def status_changed(session: Any) -> None:
    """In the transaction of a transition: drop the entry now, write the new one on commit."""
    entry, ttl = _entry(session)
    STATUSES.changed([session.pk], lambda: {session.pk: entry}, ttl)
