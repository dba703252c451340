"""Active API keys in the cache, by prefix, for the authentication every integrator request makes.

Every API request authenticates its key; reading it (with its organization) from PostgreSQL
was one query and the ORM's compilation on every request. The entry here is the key as
the database last said, read in the same Redis round trip as the request's rate-limit
count (apps.organizations.authentication), and the secret is still checked against its
hash on every request.

Kept exact the way the session status cache is (apps.transfers.status_cache): any write to a
key or its organization (a revocation, a scope change, a rename, a deletion) drops the entry
inside its transaction and, once committed, writes what the database now says, a tombstone
for a key that is revoked or gone. Readers only ever `add` after a miss, never overwrite, so
a reader that read the key just before it was revoked cannot put it back. Entries live TTL
seconds at most: a bound on staleness should the cache have missed a write while Redis was
unreachable (it degrades to misses, i.e. to the database).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction

from apps.organizations.models import ApiKey, Organization

TTL = 60
# The entry of a key that is revoked or deleted: no reader may add the old key back.
TOMBSTONE = "revoked"


def entry_key(prefix: str) -> str:
    return f"organizations:apikey:{prefix}"


def key_from_entry(entry: Any) -> ApiKey | None:
    """The cached active key; None for a tombstone or anything else."""
    return entry if isinstance(entry, ApiKey) else None


def key_cached(prefix: str) -> Any:
    return cache.get(entry_key(prefix))


def key_load(prefix: str) -> ApiKey | None:
    """The active key with this prefix, from the database, with its organization."""
    return ApiKey.objects.select_related("organization").filter(prefix=prefix, revoked_at__isnull=True).first()


def key_remember(key: ApiKey) -> None:
    """After a read from the database: add, never overwrite a newer entry (or tombstone)."""
    cache.add(entry_key(key.prefix), key, TTL)


def keys_changed(prefixes: list[str]) -> None:
    """In the transaction that changed these keys: drop their entries now and, on commit,
    write what the database then holds (the key, or a tombstone)."""
    if not prefixes:
        return
    cache.delete_many([entry_key(p) for p in prefixes])

    def refresh() -> None:
        active = {k.prefix: k for k in ApiKey.objects.select_related("organization").filter(prefix__in=prefixes)}
        cache.set_many(
            {entry_key(p): active[p] if p in active and active[p].revoked_at is None else TOMBSTONE for p in prefixes},
            TTL,
        )

    transaction.on_commit(refresh)


def _api_key_saved(sender: type, instance: ApiKey, **kwargs: Any) -> None:
    keys_changed([instance.prefix])


def _organization_saved(sender: type, instance: Organization, **kwargs: Any) -> None:
    if kwargs.get("created"):
        return
    keys_changed(list(ApiKey.objects.filter(organization_id=instance.pk).values_list("prefix", flat=True)))


def connect() -> None:
    """Wired in OrganizationsConfig.ready(): admin edits and deletions go through these."""
    from django.db.models.signals import post_delete, post_save

    post_save.connect(_api_key_saved, sender=ApiKey, dispatch_uid="apikey-cache-save")
    post_delete.connect(_api_key_saved, sender=ApiKey, dispatch_uid="apikey-cache-delete")
    post_save.connect(_organization_saved, sender=Organization, dispatch_uid="apikey-cache-org-save")
