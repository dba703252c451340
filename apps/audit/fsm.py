"""django-fsm's model mixin with a thread-safe refresh_from_db.

django_fsm.FSMModelMixin.refresh_from_db switches the `protected` flag off on the state
*field* (shared by every instance, in every thread), reloads, and switches it back on. Two
threads refreshing at once interleave: one switches protection back on while the other is
still reloading, and that one fails with "Direct status modification is not allowed"
(found by tests/reliability/test_races.py with simultaneous OTP guesses). Here the reload
is made legal for this instance only, by forgetting its loaded state value first.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import django_fsm
from django.db import models


class FSMModelMixin(django_fsm.FSMModelMixin):
    def refresh_from_db(
        self, using: str | None = None, fields: Iterable[str] | None = None, from_queryset: Any = None
    ) -> None:
        if fields is None:
            # What Model.refresh_from_db reloads by default: every field not deferred.
            self._prefetched_objects_cache: dict[str, Any] = {}
            deferred = self.get_deferred_fields()
            fields = [f.attname for f in self._meta.concrete_fields if f.attname not in deferred]
        else:
            fields = list(fields)
        for name in self._get_protected_fsm_fields():
            # A state field: always a concrete field, never a reverse relation.
            attname = cast("models.Field[Any, Any]", self._meta.get_field(name)).attname
            if attname in fields or name in fields:
                # The descriptor refuses to overwrite a loaded protected value, not to load one.
                self.__dict__.pop(attname, None)
        models.Model.refresh_from_db(self, using=using, fields=fields, from_queryset=from_queryset)
