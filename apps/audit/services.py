"""The one way any state machine changes: lock, transition, save, log, announce.

Row by row (`transition_apply`, `transition_record`) or set-based (`transitions_apply_bulk`,
for the deadline sweeps): audit writes every audit.Transition row, and announces each written
transition once to its subscribers (apps.audit.dispatch).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone
from django_fsm import can_proceed

from apps.audit.deadlines import Deadline, deadlines_of
from apps.audit.dispatch import Change, transitions_announce
from apps.audit.errors import StateConflict
from apps.audit.events import column_of, concrete_field, payload_of, payload_sql
from apps.audit.models import ActorType, Transition


@dataclass(frozen=True)
class Actor:
    """Who caused a change, as written to the audit log."""

    type: str
    id: str = ""
    label: str = ""

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls(ActorType.USER, str(user.pk), f"user {user.pk}")

    @classmethod
    def api_key(cls, api_key: Any) -> Actor:
        return cls(ActorType.API_KEY, str(api_key.pk), f"API key {api_key.prefix}")

    @classmethod
    def provider(cls, name: str) -> Actor:
        return cls(ActorType.PROVIDER, name, f"provider {name}")

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(ActorType.SYSTEM, "", label)


class Audited(Protocol):
    """What a model offers the audit log: its event name, state field and payload."""

    pk: Any
    EVENT_TYPE: str
    STATE_FIELD: str

    def event_data(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=models.Model)


def transition_record(
    *,
    subject: Audited,
    from_state: str,
    to_state: str,
    actor: Actor,
    reason: str = "",
    event_type: str = "",
    publish: bool = True,
) -> Transition:
    """Append one audit row and announce it; callers are inside the transaction that made the change.

    `publish=False` logs an act that is no event (no state changed, e.g. a process's personal
    data redacted, under its own `event_type`): the row is born published, so the relay skips
    it, and it is not announced."""
    row = Transition.objects.create(
        content_type=ContentType.objects.get_for_model(subject),  # type: ignore[arg-type]
        object_id=str(subject.pk),
        organization_id=getattr(subject, "organization_id", None),
        from_state=from_state,
        to_state=to_state,
        event_type=event_type or subject.EVENT_TYPE,
        data=subject.event_data(),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        reason=reason,
        published_at=None if publish else timezone.now(),
    )
    if publish:
        model = subject._meta.model  # type: ignore[attr-defined]
        instance = subject if isinstance(subject, models.Model) else None
        transitions_announce([Change(model, row.object_id, from_state, to_state, instance)])
    return row


def transition_apply(subject: M, transition: str, *, actor: Actor, reason: str = "", **kwargs: Any) -> M:
    """Run the named django-fsm transition on a locked fresh copy of `subject` and log it.

    Raises StateConflict (HTTP 409) when the current state forbids the transition.
    Returns the updated instance.
    """
    model = type(subject)
    with transaction.atomic():
        # The row lock serialises concurrent changes: the loser re-reads the new state
        # after the winner commits, and can_proceed() then refuses it.
        locked = model._default_manager.select_for_update().get(pk=subject.pk)
        method = getattr(locked, transition)
        from_state = getattr(locked, locked.STATE_FIELD)  # type: ignore[attr-defined]
        if not can_proceed(method):
            label = model._meta.verbose_name
            raise StateConflict(f"A {label} in state {from_state} cannot {transition.replace('_', ' ')}.")
        method(**kwargs)
        locked.save()
        transition_record(
            subject=locked,  # type: ignore[arg-type]
            from_state=from_state,
            to_state=getattr(locked, locked.STATE_FIELD),  # type: ignore[attr-defined]
            actor=actor,
            reason=reason,
            # A person's own objects (e.g. their detail proposals) are logged but are no
            # organization's events.
            publish=getattr(locked, "PUBLISH_EVENTS", True),
        )
    return locked


# --- Deadlines: the read-time guard and the set-based sweep --------------------------------


def expire_if_overdue(subject: M) -> M:
    """Read-time guard: an object past one of its deadlines takes the deadline's transition now,
    rather than at the next sweep. Returns the object as it is now."""
    now = timezone.now()
    for deadline in deadlines_of(type(subject)):
        if not deadline.is_overdue(subject, now):
            continue
        try:
            return transition_apply(
                subject,
                deadline.transition,
                actor=Actor.system(deadline.read_label),
                reason=deadline.reason,
                **copy.deepcopy(dict(deadline.kwargs)),
            )
        except StateConflict:  # something else moved it first
            return type(subject)._default_manager.get(pk=subject.pk)
    return subject


def transitions_apply_bulk(
    model: type[models.Model], deadline: Deadline, *, batch_size: int, after: Any = None
) -> tuple[int, Any]:
    """One batch of a deadline sweep, set-based: lock up to `batch_size` of the model's objects
    past `deadline` (skip-locked, oldest deadline first, from `after` on), move them to the
    target state (with the deadline's `values`, and `updated_at`), run `deadline.also`, append
    their audit transitions with the same states, event type, payload (the model's one
    EVENT_PAYLOAD), actor and reason as transition_apply writes row by row, and announce them,
    one Change per row, in one call. Returns the number of objects changed and the latest
    deadline among them (where the next batch of the same run starts).

    With `deadline.async_commit`, the batch commits with `synchronous_commit = off` on
    PostgreSQL: the commit does not wait for its WAL to reach the disk. A crash can then lose the
    batches committed in the last moments before it (up to three wal_writer_delay, 0.6 s by
    default), which leaves those objects overdue and without their audit rows, as if the sweep
    had not reached them yet: the next sweep, which is idempotent, changes and logs them then.
    Nothing outside the database can have acted on a lost batch when its subscribers only queue
    the relay: the relay commits synchronously, and that commit flushes all the WAL written
    before it, this batch's included; readers see an overdue object in its final state either
    way (effective_state).
    """
    now = timezone.now()
    actor = Actor.system(deadline.sweep_label)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            if deadline.async_commit:
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL synchronous_commit = off")
            pks, from_states, last = _bulk_sql(model, deadline, actor, batch_size, after, now)
        else:
            pks, from_states, last = _bulk_orm(model, deadline, actor, batch_size, after, now)
        if pks:
            transitions_announce(
                [
                    Change(model, str(pk), from_state, deadline.target)
                    for pk, from_state in zip(pks, from_states, strict=True)
                ]
            )
    return len(pks), last


def _literal(value: str) -> str:
    # States are the models' own constants; written into the statement so that the planner can
    # use a partial deadline index, whose condition names them.
    if not value.replace("_", "").isalnum():
        raise ValueError(f"Not a state: {value!r}")
    return f"'{value}'"


def _bulk_sql(
    model: type[models.Model], deadline: Deadline, actor: Actor, batch_size: int, after: Any, now: datetime
) -> tuple[list[Any], list[str], Any]:
    """PostgreSQL: the batch in one statement (lock, update, insert transitions), then `also`.

    The update finds each locked row by its ctid (a TID scan) instead of a second primary-key
    lookup. The locked version is the one the statement's snapshot sees unless the row changed
    between the snapshot and the lock; such a row stays as it is in this batch (no update, no
    audit row) and a later sweep takes it if it is still overdue.
    """
    meta = model._meta
    table, pk = meta.db_table, column_of(model, meta.pk.name)
    state = column_of(model, model.STATE_FIELD)  # type: ignore[attr-defined]
    due = column_of(model, deadline.field)
    names = {f.name for f in meta.concrete_fields}
    organization = column_of(model, "organization") if "organization" in names else None
    params: dict[str, Any] = {"now": now, "after": after, "limit": batch_size, "target": deadline.target}
    sets = [f"{state} = %(target)s"]
    if "updated_at" in names:
        sets.append("updated_at = %(now)s")
    for n, (name, value) in enumerate(deadline.values.items()):
        field = concrete_field(model, name)
        params[f"set{n}"] = field.get_db_prep_save(value, connection)
        sets.append(f"{field.column} = %(set{n})s")
    # Every row ends in the target state: the payload's state keys are computed once.
    data, data_params, read = payload_sql(model, "changed", state=deadline.target)
    params.update(data_params)
    read |= {pk, due} | ({organization} if organization else set())
    returning = ", ".join(f"t.{column}" for column in sorted(read))
    statuses = ", ".join(_literal(source) for source in deadline.sources)
    start = f"AND {due} >= %(after)s" if after is not None else ""
    params.update(
        content_type=ContentType.objects.get_for_model(model).pk,
        event_type=model.EVENT_TYPE,  # type: ignore[attr-defined]
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        reason=deadline.reason,
    )
    sql = f"""
        WITH batch AS (
            SELECT ctid, {state} AS audit_from_state FROM {table}
            WHERE {state} IN ({statuses}) AND {due} <= %(now)s {start}
            ORDER BY {due} LIMIT %(limit)s FOR UPDATE SKIP LOCKED
        ), changed AS (
            UPDATE {table} t SET {", ".join(sets)} FROM batch
            WHERE t.ctid = batch.ctid
            RETURNING {returning}, batch.audit_from_state
        ), logged AS (
            INSERT INTO {Transition._meta.db_table} (
                content_type_id, object_id, organization_id, from_state, to_state, event_type, data,
                actor_type, actor_id, actor_label, reason, created_at, published_at
            )
            SELECT %(content_type)s, changed.{pk}::text, {f"changed.{organization}" if organization else "NULL"},
                changed.audit_from_state, %(target)s, %(event_type)s, {data},
                %(actor_type)s, %(actor_id)s, %(actor_label)s, %(reason)s, %(now)s, NULL
            FROM changed
        )
        SELECT array_agg({pk}::text), array_agg(audit_from_state), max({due}) FROM changed
    """  # noqa: S608 - table and column names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pks, from_states, last = cursor.fetchone()
    pks, from_states = pks or [], from_states or []
    if pks and deadline.also is not None:
        deadline.also(pks)
    return pks, from_states, last


def _bulk_orm(
    model: type[models.Model], deadline: Deadline, actor: Actor, batch_size: int, after: Any, now: datetime
) -> tuple[list[Any], list[str], Any]:
    """Other databases: the same batch through the ORM."""
    state_field = model.STATE_FIELD  # type: ignore[attr-defined]
    overdue = model._default_manager.filter(**{f"{state_field}__in": deadline.sources, f"{deadline.field}__lte": now})
    if after is not None:
        overdue = overdue.filter(**{f"{deadline.field}__gte": after})
    objs = list(overdue.select_for_update(skip_locked=True).order_by(deadline.field)[:batch_size])
    if not objs:
        return [], [], None
    pks = [obj.pk for obj in objs]
    from_states = [getattr(obj, state_field) for obj in objs]
    changes = {state_field: deadline.target, **deadline.values}
    if "updated_at" in {f.name for f in model._meta.concrete_fields}:
        changes["updated_at"] = now
    model._default_manager.filter(pk__in=pks).update(**changes)
    for obj in objs:
        for name, value in changes.items():
            obj.__dict__[concrete_field(model, name).attname] = value
    if deadline.also is not None:
        deadline.also(pks)
    content_type = ContentType.objects.get_for_model(model)
    organization = "organization" in {f.name for f in model._meta.concrete_fields}
    Transition.objects.bulk_create(
        Transition(
            content_type=content_type,
            object_id=str(obj.pk),
            organization_id=obj.organization_id if organization else None,  # type: ignore[attr-defined]
            from_state=from_state,
            to_state=deadline.target,
            event_type=model.EVENT_TYPE,  # type: ignore[attr-defined]
            data=payload_of(obj, now=now),
            actor_type=actor.type,
            actor_id=actor.id,
            actor_label=actor.label[:200],
            reason=deadline.reason,
            created_at=now,
        )
        for obj, from_state in zip(objs, from_states, strict=True)
    )
    return pks, from_states, max(getattr(obj, deadline.field) for obj in objs)


def sweep_overdue(model: type[models.Model], *, batch_size: int = 500) -> int:
    """One batch of each of the model's deadlines; the number of objects changed (beat repeats
    it until nothing is left). Skip-locked, idempotent."""
    return sum(transitions_apply_bulk(model, d, batch_size=batch_size)[0] for d in deadlines_of(model))


def next_batch_size(size: int, count: int, seconds: float, target: float, smallest: int, largest: int) -> int:
    """The size that should take `target` seconds at this batch's per-row cost; it may at most
    double from one batch to the next (one fast batch is no proof), and it shrinks at once."""
    if seconds <= 0:
        return min(largest, size * 2)
    fitting = int(target * count / seconds)
    return max(smallest, min(largest, size * 2, fitting))


def sweep_overdue_batches(
    model: type[models.Model],
    *,
    batch_seconds: float,
    first_batch: int,
    min_batch: int,
    max_batch: int,
    deadlines: Sequence[Deadline] | None = None,
) -> Iterator[tuple[int, float]]:
    """Every deadline of the model swept to the end, batch by batch: yields (objects changed,
    seconds) for every batch that changed something. Each batch is its own transaction (its
    locks held for its duration only), sized from the duration of the one before to take about
    `batch_seconds`, and starts at the deadline where the previous one ended. Objects skipped
    because another transaction held them locked are left to the next run."""
    for deadline in deadlines_of(model) if deadlines is None else deadlines:
        size = max(min_batch, min(max_batch, first_batch))
        after: Any = None
        while True:
            started = time.perf_counter()
            count, last = transitions_apply_bulk(model, deadline, batch_size=size, after=after)
            seconds = time.perf_counter() - started
            if not count:
                break
            yield count, seconds
            after = last
            size = next_batch_size(size, count, seconds, batch_seconds, min_batch, max_batch)
