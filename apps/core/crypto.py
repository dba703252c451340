"""Encryption at rest for personal values (MultiFernet) and keyed HMACs for lookups.

Keys come from FIELD_ENCRYPTION_KEYS (newest first), never from SECRET_KEY, so that the
two can rotate independently.
"""

from __future__ import annotations

import hashlib
import hmac
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
