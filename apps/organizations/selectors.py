from __future__ import annotations

import hmac

from apps.organizations.models import ApiKey
from apps.organizations.services import KEY_PREFIX, hash_secret


def api_key_from_raw(raw: str) -> ApiKey | None:
    """The active key whose hash matches `raw`, or None. Compared in constant time."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = ApiKey.objects.select_related("organization").filter(prefix=parts[1], revoked_at__isnull=True).first()
    if key is None or not hmac.compare_digest(key.hashed_secret, hash_secret(raw)):
        return None
    return key
