"""A cache of database rows that readers can trust: what the database last said, never older
than the last committed write.

The protocol, shared by the API keys' cache (apps.organizations.key_cache) and the data-transfer
sessions' status cache (apps.transfers.status_cache):

- a write drops the entry inside its transaction (`changed`) and, once the transaction
  commits, writes what the database now holds: the new value, or a TOMBSTONE for a row that
  is gone or no longer to be served;
- a reader that missed reads the database and only ever `add`s (`remember`), never
  overwrites: a reader that read the row just before a write committed cannot put the old
  value back over the new one (or over a tombstone);
- every entry lives at most its TTL: a bound on staleness should the cache have missed a
  write while Redis was unreachable (apps.core.cache degrades to misses, i.e. to the database).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction

# The entry of a row that is gone or revoked: no reader may add the old value back.
TOMBSTONE = "revoked"


@dataclass(frozen=True)
class ExactCache:
    """The entries of one kind of row, keyed `<prefix>:<ident>`, living `ttl` seconds at most."""

    prefix: str
    ttl: int

    def key(self, ident: Any) -> str:
        return f"{self.prefix}:{ident}"

    def get(self, ident: Any) -> Any:
        """The entry, a TOMBSTONE, or None on a miss."""
        return cache.get(self.key(ident))

    def remember(self, ident: Any, value: Any, ttl: int | None = None) -> None:
        """After a read from the database: add, never overwrite a newer entry (or tombstone)."""
        cache.add(self.key(ident), value, self.ttl if ttl is None else ttl)

    def changed(self, idents: Iterable[Any], fresh: Callable[[], Mapping[Any, Any]], ttl: int | None = None) -> None:
        """In the transaction that changed these rows: drop their entries now and, on commit,
        write `fresh()`: {ident: what the database then holds, or TOMBSTONE}."""
        idents = list(idents)
        if not idents:
            return
        keys = [self.key(ident) for ident in idents]
        if len(keys) == 1:
            cache.delete(keys[0])
        else:
            cache.delete_many(keys)
        lifetime = self.ttl if ttl is None else ttl

        def write() -> None:
            entries = {self.key(ident): value for ident, value in fresh().items()}
            if len(entries) == 1:
                ((key, value),) = entries.items()
                cache.set(key, value, lifetime)
            elif entries:
                cache.set_many(entries, lifetime)

        transaction.on_commit(write)
