"""Writes for organizations and API keys."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.core.token_hashes import token_hash
from apps.organizations import key_cache
from apps.organizations.models import DEFAULT_SCOPES, ApiKey, Organization, Scope

KEY_PREFIX = "ipk"


def organization_create(*, slug: str, name: str) -> Organization:
    organization = Organization(slug=slug, name=name or slug)
    organization.full_clean()
    organization.save()
    return organization


def api_key_create(
    *, organization: Organization, scopes: Iterable[str] | None = None, name: str = ""
) -> tuple[ApiKey, str]:
    """Create a key and return it with its raw value, which is never stored or shown again."""
    chosen = list(dict.fromkeys(scopes)) if scopes else list(DEFAULT_SCOPES)
    unknown = sorted(set(chosen) - set(Scope.values))
    if unknown:
        raise ValidationError({"scopes": f"Unknown scope(s): {', '.join(unknown)}. Known: {', '.join(Scope.values)}."})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    raw = f"{KEY_PREFIX}_{prefix}_{secret}"
    key = ApiKey.objects.create(
        organization=organization, name=name, prefix=prefix, hashed_secret=token_hash(raw), scopes=chosen
    )
    return key, raw


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
        key_cache.keys_changed([api_key.prefix])
    api_key.refresh_from_db()
    return api_key


# When this process last recorded each key's use (the key itself may come from the cache,
# where last_used_at is as old as the entry).
_touched: dict[Any, float] = {}
TOUCH_EVERY_SECONDS = 60


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute per process: one UPDATE per request would be a hot
    write. last_used_at is a back-office hint, so it does not go through a transition."""
    now = timezone.now()
    clock = now.timestamp()
    if clock - _touched.get(api_key.pk, -TOUCH_EVERY_SECONDS) < TOUCH_EVERY_SECONDS:
        return
    _touched[api_key.pk] = clock
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > TOUCH_EVERY_SECONDS:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
