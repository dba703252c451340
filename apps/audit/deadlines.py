"""Timed state machines: one declaration of what happens to an object left open past a deadline.

A model with deadlines lists them in `DEADLINES` (a tuple of Deadline). Everything else is
written once, in apps.audit.services, for every timed model:

- `effective_state(obj)`: the state as read, overdue deadlines applied (before any sweep);
- `expire_if_overdue(obj)`: the read-time guard: an overdue object takes its transition now,
  through `transition_apply`, like any other change;
- `sweep_overdue(model)`: the beat sweep, set-based through the bulk transition service
  (`transitions_apply_bulk`), locks taken in batches.

The app only declares; its services call these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any

from django.db import models


@dataclass(frozen=True)
class Deadline:
    """Objects in one of `sources` whose `field` has passed take `transition` to `target`.

    `values` are the other columns the transition sets, as the sweep writes them in bulk
    (e.g. a fail reason), and `also(pks)` what else it does, in the same transaction (e.g.
    deleting shared values). `reason` and the two actor labels go to the audit log.
    `async_commit`: a sweep batch may commit without waiting for its WAL to reach the disk
    (see transitions_apply_bulk); only for models with no subscriber acting outside the
    database before the relay.
    """

    field: str
    sources: tuple[str, ...]
    transition: str
    target: str
    reason: str
    read_label: str = "expiry"
    sweep_label: str = "expiry sweep"
    kwargs: Mapping[str, Any] = dataclass_field(default_factory=dict)
    values: Mapping[str, Any] = dataclass_field(default_factory=dict)
    also: Callable[[Sequence[Any]], None] | None = None
    async_commit: bool = False

    def is_overdue(self, obj: models.Model, now: datetime, *, state: Any = None) -> bool:
        state = getattr(obj, obj.STATE_FIELD) if state is None else state  # type: ignore[attr-defined]
        due = getattr(obj, self.field)
        return state in self.sources and due is not None and due <= now


def deadlines_of(model: type[models.Model]) -> tuple[Deadline, ...]:
    return tuple(getattr(model, "DEADLINES", ()))


def effective_state(obj: models.Model, now: datetime) -> Any:
    """The state as read: an object past one of its deadlines shows the state its sweep gives it."""
    for deadline in deadlines_of(type(obj)):
        if deadline.is_overdue(obj, now):
            return deadline.target
    return getattr(obj, obj.STATE_FIELD)  # type: ignore[attr-defined]
