"""Writes for organizations and API keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.organizations.models import DEFAULT_SCOPES, ApiKey, Organization, Scope

KEY_PREFIX = "ipk"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


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
        organization=organization, name=name, prefix=prefix, hashed_secret=hash_secret(raw), scopes=chosen
    )
    return key, raw


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    with transaction.atomic():
        ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    api_key.refresh_from_db()
    return api_key


def api_key_touch(*, api_key: ApiKey) -> None:
    """Record use at most once a minute: one UPDATE per request would be a hot write."""
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
