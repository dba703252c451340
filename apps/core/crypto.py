"""Encryption at rest for personal values (MultiFernet) and keyed HMACs for lookups.

Keys come from FIELD_ENCRYPTION_KEYS (newest first), never from SECRET_KEY, so that the
two can rotate independently.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

TOKEN_PREFIX = "gAAAA"  # noqa: S105 - every Fernet token starts so (version byte 0x80 + timestamp)


@lru_cache(maxsize=1)
def _multi_fernet() -> MultiFernet:
    keys = [k.strip() for k in settings.FIELD_ENCRYPTION_KEYS if k.strip()]
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"FIELD_ENCRYPTION_KEYS holds an invalid Fernet key: {exc}") from exc


@lru_cache(maxsize=1)
def _hmac_key() -> bytes:
    key: str = settings.FIELD_HMAC_KEY
    if not key:
        raise ImproperlyConfigured("FIELD_HMAC_KEY is empty.")
    return key.encode()


def reset_keys_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting in ("FIELD_ENCRYPTION_KEYS", "FIELD_HMAC_KEY"):
        _multi_fernet.cache_clear()
        _hmac_key.cache_clear()
        _name_index_key.cache_clear()


def encrypt(value: str) -> str:
    return _multi_fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _multi_fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "A value could not be decrypted: is its key still in FIELD_ENCRYPTION_KEYS?"
        ) from exc


def rotate(token: str) -> str:
    """Re-encrypt a token with the newest key."""
    return _multi_fernet().rotate(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """A keyed HMAC-SHA256 for equality lookups of an encrypted value."""
    return hmac.new(_hmac_key(), value.encode(), hashlib.sha256).hexdigest()


def normalize_email(email: str) -> str:
    return email.strip().lower()


@lru_cache(maxsize=1)
def _name_index_key() -> bytes:
    """The blind index's own key, derived from FIELD_HMAC_KEY (a name token's HMAC never equals
    another lookup's, such as an email's)."""
    return hmac.new(_hmac_key(), b"portal name index v1", hashlib.sha256).digest()


def name_tokens(*values: str) -> list[str]:
    """The words of a name, normalised: case folded, accents stripped (NFKD), split on anything
    that is not a letter. "José-María  O'Neill" → ["jose", "maria", "neill", "o"]."""
    tokens: set[str] = set()
    for value in values:
        decomposed = unicodedata.normalize("NFKD", (value or "").casefold())
        letters = "".join(c if c.isalpha() else " " for c in decomposed if not unicodedata.combining(c))
        tokens.update(unicodedata.normalize("NFKC", word) for word in letters.split())
    return sorted(tokens)


def name_token_hash(token: str) -> str:
    """A keyed HMAC-SHA256 of one normalised name token (the blind index of names)."""
    return hmac.new(_name_index_key(), token.encode(), hashlib.sha256).hexdigest()


def name_token_hashes(*values: str) -> list[str]:
    return [name_token_hash(token) for token in name_tokens(*values)]
