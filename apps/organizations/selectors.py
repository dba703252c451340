from __future__ import annotations

from typing import Any

from apps.core.token_hashes import token_hash, token_hashes_equal
from apps.organizations import key_cache
from apps.organizations.models import ApiKey
from apps.organizations.services import KEY_PREFIX


def api_key_parse(raw: str) -> tuple[str, str] | None:
    """(prefix, hash of the whole key) of a well-formed key, else None."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1]:
        return None
    return parts[1], token_hash(raw)


def api_key_verify(prefix: str, hashed: str, entry: Any = None) -> ApiKey | None:
    """The active key with `prefix` whose hash is `hashed`, or None (compared in constant time).

    `entry` is what the key cache held for the prefix (apps.organizations.key_cache); on a miss
    the key is read from the database and remembered for the next requests.
    """
    if entry is None:
        key = key_cache.key_load(prefix)
        if key is not None:
            key_cache.key_remember(key)
    else:
        key = key_cache.key_from_entry(entry)
    if key is None or not token_hashes_equal(hashed, key.hashed_secret):
        return None
    return key
