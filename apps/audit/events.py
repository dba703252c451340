"""One event payload per audited model, declared once and read on both paths.

A model lists its payload's keys in `EVENT_PAYLOAD` (an EventPayload); audit reads it on an
instance for a transition written row by row (`payload_of`) and compiles the same declaration
to SQL for the transitions written in bulk by the sweeps (`payload_sql`), so the two cannot
drift apart. Payloads hold ids and states only, never personal values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import datetime
from typing import Any
from uuid import UUID

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from apps.audit.deadlines import deadlines_of, effective_state
from apps.audit.models import Transition


@dataclass(frozen=True)
class Key:
    """One key of a payload: the value of one of the model's fields.

    - `effective`: the state field as read, with the model's deadlines applied (an overdue
      object shows the state its sweep will give it; apps.audit.deadlines);
    - `shown`: stored value → the value an event shows (e.g. PENDING → SENT);
    - `blank_is_null`: an empty string is sent as null;
    - `omit_if_null`: the key is left out when the value is null.
    """

    field: str
    effective: bool = False
    shown: Mapping[str, str] = dataclass_field(default_factory=dict)
    blank_is_null: bool = False
    omit_if_null: bool = False


@dataclass(frozen=True)
class EventPayload:
    """The payload of a model's events: payload key → Key (or a field name)."""

    keys: Mapping[str, Key | str]

    def items(self) -> list[tuple[str, Key]]:
        return [(name, Key(key) if isinstance(key, str) else key) for name, key in self.keys.items()]


def concrete_field(model: type[models.Model] | models.Model, name: str) -> models.Field[Any, Any]:
    """The model's concrete field `name` (a payload or a deadline names only such fields)."""
    found = model._meta.get_field(name)
    if not isinstance(found, models.Field):
        raise TypeError(f"{name} is a relation's reverse side, not a field of {model._meta.label}")
    return found


def column_of(model: type[models.Model], name: str) -> str:
    """The database column of the model's concrete field `name`."""
    column = concrete_field(model, name).column
    assert column is not None
    return column


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, UUID) else value


def payload_of(subject: models.Model, *, now: datetime | None = None) -> dict[str, Any]:
    """The payload of `subject` as it is now (in memory)."""
    payload: EventPayload = subject.EVENT_PAYLOAD  # type: ignore[attr-defined]
    data: dict[str, Any] = {}
    for name, key in payload.items():
        attname = concrete_field(subject, key.field).attname
        value = getattr(subject, attname)
        if key.effective:  # the state field, as read
            value = effective_state(subject, now or timezone.now())
        value = key.shown.get(value, value)
        if key.blank_is_null and value == "":
            value = None
        if value is None and key.omit_if_null:
            continue
        data[name] = _json(value)
    return data


def previous_shown(transition: Transition) -> dict[str, Any]:
    """For the state a transition left, the payload keys that show it differently from its
    stored value, as `previous_<key>` (e.g. an activity leaving PENDING was SENT to its
    initiator and ACTION_REQUIRED to its receptor)."""
    model = ContentType.objects.get_for_id(transition.content_type_id).model_class()
    payload: EventPayload | None = getattr(model, "EVENT_PAYLOAD", None)
    if payload is None or not transition.from_state:
        return {}
    state_field = model.STATE_FIELD  # type: ignore[union-attr]
    return {
        f"previous_{name}": key.shown[transition.from_state]
        for name, key in payload.items()
        if key.field == state_field and transition.from_state in key.shown
    }


_TEXTUAL = {"CharField", "TextField", "UUIDField", "SlugField", "EmailField"}


def payload_sql(
    model: type[models.Model], alias: str, *, state: str | None = None
) -> tuple[str, dict[str, Any], set[str]]:
    """The same payload as a jsonb SQL expression over the columns of `alias` (a row of the
    model's table), with its named parameters (`%(now)s` is the time the deadlines are read at)
    and the columns it reads.

    `state`: every row is known to be in this state (a bulk transition's target); the keys
    that read the state are then computed once, here, rather than row by row."""
    payload: EventPayload = model.EVENT_PAYLOAD  # type: ignore[attr-defined]
    state_field = model.STATE_FIELD  # type: ignore[attr-defined]
    overdue_states = {source for deadline in deadlines_of(model) for source in deadline.sources}
    params: dict[str, Any] = {}
    always: list[str] = []
    optional: list[str] = []
    read: set[str] = set()
    for index, (name, key) in enumerate(payload.items()):
        read.add(column_of(model, key.field))
        column = f"{alias}.{column_of(model, key.field)}"
        value = column
        if state is not None and key.field == state_field and not (key.effective and state in overdue_states):
            params[f"k{index}"], params[f"k{index}_c"] = name, key.shown.get(state, state)
            always.append(f"%(k{index})s::text, %(k{index}_c)s::text")
            read.discard(column_of(model, key.field))
            continue
        if key.effective:
            value = _effective_sql(model, value, alias, params, f"k{index}")
            read |= {column_of(model, deadline.field) for deadline in deadlines_of(model)}
        if key.shown:
            whens = []
            for n, (stored, shown) in enumerate(sorted(key.shown.items())):
                params[f"k{index}_s{n}"], params[f"k{index}_v{n}"] = stored, shown
                whens.append(f"WHEN %(k{index}_s{n})s THEN %(k{index}_v{n})s")
            value = f"(CASE ({value})::text {' '.join(whens)} ELSE ({value})::text END)"
        if key.blank_is_null:
            value = f"NULLIF({value}, '')"
        params[f"k{index}"] = name
        # Strings (text, ids) go in as text, the cheapest JSON string; other types as JSON.
        textual = key.shown or concrete_field(model, key.field).get_internal_type() in _TEXTUAL
        pair = f"%(k{index})s::text, ({value})::text" if textual else f"%(k{index})s::text, to_jsonb({value})"
        if key.omit_if_null:
            optional.append(f"(CASE WHEN {value} IS NULL THEN '{{}}'::jsonb ELSE jsonb_build_object({pair}) END)")
        else:
            always.append(pair)
    sql = f"jsonb_build_object({', '.join(always)})"
    return " || ".join([sql, *optional]), params, read


def _effective_sql(model: type[models.Model], value: str, alias: str, params: dict[str, Any], prefix: str) -> str:
    whens = []
    for n, deadline in enumerate(deadlines_of(model)):
        column = f"{alias}.{column_of(model, deadline.field)}"
        sources = ", ".join(f"%({prefix}_d{n}_{i})s" for i in range(len(deadline.sources)))
        for i, source in enumerate(deadline.sources):
            params[f"{prefix}_d{n}_{i}"] = source
        params[f"{prefix}_d{n}_t"] = deadline.target
        whens.append(f"WHEN ({value})::text IN ({sources}) AND {column} <= %(now)s THEN %({prefix}_d{n}_t)s")
    if not whens:
        return value
    return f"(CASE {' '.join(whens)} ELSE ({value})::text END)"
