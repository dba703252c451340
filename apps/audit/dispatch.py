"""Audit announces every transition it writes, once, to the apps that subscribed to it.

Subscribers register in their AppConfig.ready() with `transition_subscribe(model, handler)`
(`model=None`: every model). A handler receives the list of Changes of one write: one change
from `transition_apply` / `transition_record`, every row of a batch from
`transitions_apply_bulk`. It runs

- `on_commit=True` (the default): after the transaction commits, never on rollback, once per
  write: for effects outside the database that must not announce what may still roll back
  (queueing the event relay, WebSocket pushes);
- `on_commit=False`: at once, inside the transaction of the change, for effects that must
  commit or roll back with it (a per-object notification's delivery rows, dropping a cache
  entry before the commit makes the change visible).

Only published transitions are announced: acts logged with `publish=False` (no state
changed) and a person's own objects (`PUBLISH_EVENTS = False`) are in the log only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction


@dataclass(frozen=True, slots=True)
class Change:
    """One committed (or committing) transition, as subscribers see it.

    `subject` is the saved object when the change was made row by row; the bulk path leaves
    it None (`subjects` loads them when a subscriber needs them)."""

    model: type[models.Model]
    object_id: str
    from_state: str
    to_state: str
    subject: models.Model | None = None

    @property
    def created(self) -> bool:
        """The object's first row (∅ → its initial state): it was created, nothing moved."""
        return not self.from_state


Handler = Callable[[list[Change]], None]


@dataclass(frozen=True)
class _Subscription:
    model: type[models.Model] | None
    handler: Handler
    on_commit: bool


_subscriptions: list[_Subscription] = []


def transition_subscribe(model: type[models.Model] | None, handler: Handler, *, on_commit: bool = True) -> None:
    """Call `handler(changes)` for the transitions of `model` (None: of every model)."""
    subscription = _Subscription(model, handler, on_commit)
    if subscription not in _subscriptions:
        _subscriptions.append(subscription)


def transition_unsubscribe(handler: Handler) -> None:
    _subscriptions[:] = [s for s in _subscriptions if s.handler is not handler]


def transitions_announce(changes: Sequence[Change], *, using: str = "default") -> None:
    """Tell the subscribers; called by apps.audit.services right after it writes the rows."""
    if not changes:
        return
    model = changes[0].model
    batch = list(changes)
    for subscription in list(_subscriptions):
        if subscription.model is not None and subscription.model is not model:
            continue
        if subscription.on_commit:
            transaction.on_commit(_call(subscription.handler, batch), using=using)
        else:
            subscription.handler(batch)


def _call(handler: Handler, changes: list[Change]) -> Callable[[], None]:
    return lambda: handler(changes)


def subjects(changes: Sequence[Change]) -> list[Any]:
    """The changed objects, in the order of `changes`: the saved instance where the change
    carries it, the others read in one query (in the change's transaction when called there)."""
    missing = [c.object_id for c in changes if c.subject is None]
    loaded: dict[str, Any] = {}
    if missing:
        model = changes[0].model
        loaded = {str(obj.pk): obj for obj in model._default_manager.filter(pk__in=missing)}
    found = [c.subject if c.subject is not None else loaded.get(c.object_id) for c in changes]
    return [obj for obj in found if obj is not None]
