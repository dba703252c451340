"""Active API keys in the cache, by prefix, for the authentication every integrator request makes.

Every API request authenticates its key; reading it (with its organization) from PostgreSQL
was one query and the ORM's compilation on every request. The entry here is the key as
the database last said, read in the same Redis round trip as the request's rate-limit
count (apps.organizations.authentication), and the secret is still checked against its
hash on every request.

Kept exact by apps.core.exact_cache, like the session status cache: any write to a key or its
organization (a revocation, a scope change, a rename, a deletion) drops the entry inside its
transaction and, once committed, writes what the database now says, a tombstone for a key that
is revoked or gone. Readers only ever `add` after a miss. Entries live TTL seconds at most.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from apps.core.exact_cache import TOMBSTONE, ExactCache
from apps.organizations.models import ApiKey, Organization

TTL = 60
KEYS = ExactCache("organizations:apikey", TTL)


def entry_key(prefix: str) -> str:
    return KEYS.key(prefix)


def key_from_entry(entry: Any) -> ApiKey | None:
    """The cached active key; None for a tombstone or anything else."""
    return entry if isinstance(entry, ApiKey) else None


def key_cached(prefix: str) -> Any:
    return KEYS.get(prefix)


def key_load(prefix: str) -> ApiKey | None:
    """The active key with this prefix, from the database, with its organization."""
    return ApiKey.objects.select_related("organization").filter(prefix=prefix, revoked_at__isnull=True).first()


def key_remember(key: ApiKey) -> None:
    """After a read from the database: add, never overwrite a newer entry (or tombstone)."""
    KEYS.remember(key.prefix, key)


def keys_changed(prefixes: list[str]) -> None:
    """In the transaction that changed these keys: drop their entries now and, on commit,
    write what the database then holds (the key, or a tombstone)."""

    def fresh() -> dict[str, Any]:
        active = {k.prefix: k for k in ApiKey.objects.select_related("organization").filter(prefix__in=prefixes)}
        return {p: active[p] if p in active and active[p].revoked_at is None else TOMBSTONE for p in prefixes}

    KEYS.changed(prefixes, fresh)


def _api_key_saved(sender: type, instance: ApiKey, **kwargs: Any) -> None:
    keys_changed([instance.prefix])


def _organization_saved(sender: type, instance: Organization, **kwargs: Any) -> None:
    if kwargs.get("created"):
        return
    keys_changed(list(ApiKey.objects.filter(organization_id=instance.pk).values_list("prefix", flat=True)))


def connect() -> None:
    """Wired in OrganizationsConfig.ready(): admin edits and deletions go through these."""
    post_save.connect(_api_key_saved, sender=ApiKey, dispatch_uid="apikey-cache-save")
    post_delete.connect(_api_key_saved, sender=ApiKey, dispatch_uid="apikey-cache-delete")
    post_save.connect(_organization_saved, sender=Organization, dispatch_uid="apikey-cache-org-save")
