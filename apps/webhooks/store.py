"""Where deliveries are claimed, loaded, recorded and released: one interface, chosen once.

PostgreSQL gets `PostgresDeliveryStore` (a claim with FOR UPDATE SKIP LOCKED, a batch's results
in one statement over arrays); any other database the ORM's `OrmDeliveryStore`, which gives the
same guarantees with a compare-and-set UPDATE per delivery. `STORE` is the one for the
database deliveries are written to, chosen when this module is imported.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.db import connections, router, transaction
from django.db.models.expressions import RawSQL

from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt to record: its row, and the delivery's new column values."""

    delivery_id: uuid.UUID
    attempt: DeliveryAttempt
    fields: dict[str, Any]


# The delivery columns a result sets.
RESULT_FIELDS = (
    "status",
    "attempt_count",
    "last_status_code",
    "last_error",
    "last_response_excerpt",
    "updated_at",
    "next_attempt_at",
    "succeeded_at",
    "enqueued_at",
)


class DeliveryStore(Protocol):
    def claim(self, ids: Sequence[uuid.UUID], claimed_at: datetime) -> list[uuid.UUID]:
        """Mark the due, pending ones of `ids` as being sent by this worker; the ids it got.

        A row is claimed only while pending, so of two workers handed the same delivery (a
        redelivered task, a re-queue) one sends.
        """
        ...

    def load(self, ids: Sequence[uuid.UUID]) -> list[Delivery]:
        """The deliveries with these ids, with their events and endpoints."""
        ...

    def results_save(self, records: Sequence[AttemptRecord], *, claimed_at: datetime) -> None:
        """Record every attempt and, where this worker still holds the claim, the delivery's new state.

        A delivery whose claim was reset meanwhile (its worker presumed dead) belongs to whoever
        holds it now: its attempt row is written (unless that worker already wrote one with the
        same number), its state is left alone.
        """
        ...

    def release(self, ids: Sequence[uuid.UUID], *, claimed_at: datetime, now: datetime) -> None:
        """Hand claimed deliveries back to pending, queued at `now`; a claim reset meanwhile is left alone."""
        ...


def as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class OrmDeliveryStore:
    """The ORM's statements: a compare-and-set UPDATE per delivery, the results in one transaction."""

    def claim(self, ids: Sequence[uuid.UUID], claimed_at: datetime) -> list[uuid.UUID]:
        return [
            pk
            for pk in ids
            if Delivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=claimed_at).update(
                status=DeliveryStatus.SENDING, claimed_at=claimed_at, requeues=0
            )
        ]

    def load(self, ids: Sequence[uuid.UUID]) -> list[Delivery]:
        return list(Delivery.objects.select_related("event", "endpoint").filter(pk__in=list(ids)))

    def results_save(self, records: Sequence[AttemptRecord], *, claimed_at: datetime) -> None:
        if not records:
            return
        with transaction.atomic():
            DeliveryAttempt.objects.bulk_create([r.attempt for r in records], ignore_conflicts=True)
            for r in records:
                Delivery.objects.filter(pk=r.delivery_id, status=DeliveryStatus.SENDING, claimed_at=claimed_at).update(
                    claimed_at=None, **r.fields
                )

    def release(self, ids: Sequence[uuid.UUID], *, claimed_at: datetime, now: datetime) -> None:
        Delivery.objects.filter(pk__in=list(ids), status=DeliveryStatus.SENDING, claimed_at=claimed_at).update(
            status=DeliveryStatus.PENDING, claimed_at=None, enqueued_at=now, requeues=0
        )


class PostgresDeliveryStore(OrmDeliveryStore):
    """PostgreSQL: the claim in one statement that skips rows another worker is locking (SKIP
    LOCKED) instead of waiting for them; a batch's results in one statement; ids as one array
    parameter, not a placeholder per id."""

    def claim(self, ids: Sequence[uuid.UUID], claimed_at: datetime) -> list[uuid.UUID]:
        connection = connections[router.db_for_write(Delivery)]
        meta = Delivery._meta
        qn = connection.ops.quote_name
        table, pk = qn(meta.db_table), qn(meta.pk.column)
        status, claimed, requeues, due = (
            qn(meta.get_field(name).column) for name in ("status", "claimed_at", "requeues", "next_attempt_at")
        )
        claimed_value = meta.get_field("claimed_at").get_db_prep_save(claimed_at, connection)
        # Only quoted names from the model's metadata go into the text; every value is a parameter.
        sql = (
            f"UPDATE {table} SET {status} = %s, {claimed} = %s, {requeues} = 0"  # noqa: S608
            f" WHERE {pk} IN (SELECT {pk} FROM {table} WHERE {pk} = ANY(%s::uuid[]) AND {status} = %s"
            f" AND {due} <= %s FOR UPDATE SKIP LOCKED) RETURNING {pk}"
        )
        params = [
            DeliveryStatus.SENDING.value,
            claimed_value,
            list(ids),
            DeliveryStatus.PENDING.value,
            claimed_value,
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return [as_uuid(row[0]) for row in cursor.fetchall()]

    def load(self, ids: Sequence[uuid.UUID]) -> list[Delivery]:
        return list(
            Delivery.objects.select_related("event", "endpoint").filter(
                pk__in=RawSQL("SELECT unnest(%s::uuid[])", [list(ids)])
            )
        )

    def results_save(self, records: Sequence[AttemptRecord], *, claimed_at: datetime) -> None:
        """One statement for the whole batch (an UPDATE … FROM unnest(arrays) in a WITH, then the
        INSERT of the attempts), so one round trip and one commit."""
        if not records:
            return
        connection = connections[router.db_for_write(Delivery)]
        qn = connection.ops.quote_name
        delivery_meta, attempt_meta = Delivery._meta, DeliveryAttempt._meta
        pk_field = delivery_meta.pk
        fields = [delivery_meta.get_field(name) for name in RESULT_FIELDS]
        columns = [pk_field, *fields]
        insert_fields = [f for f in attempt_meta.concrete_fields if not f.primary_key]
        # One array parameter per column (unnest): the text is the same for every batch size, and
        # psycopg does not parse hundreds of placeholders per statement.
        status, enqueued, succeeded, claimed = (
            qn(delivery_meta.get_field(n).column) for n in ("status", "enqueued_at", "succeeded_at", "claimed_at")
        )
        assignments = [
            f"{qn(field.column)} = r.{qn(field.column)}"
            for field in fields
            if field.name not in ("enqueued_at", "succeeded_at")
        ]
        assignments += [
            f"{claimed} = NULL",
            f"{succeeded} = COALESCE(r.{succeeded}, d.{succeeded})",
            # A retry sets when its task is queued for; a final state leaves the last queuing as it was.
            f"{enqueued} = CASE WHEN r.{status} = %s THEN r.{enqueued} ELSE d.{enqueued} END",
        ]
        params: list[Any] = [
            DeliveryStatus.PENDING.value,  # the CASE in SET comes first
            [pk_field.get_db_prep_value(r.delivery_id, connection) for r in records],
            *(
                [
                    field.get_db_prep_save(
                        {"succeeded_at": None, "enqueued_at": None, **r.fields}[field.name], connection
                    )
                    for r in records
                ]
                for field in fields
            ),
        ]
        params += [
            DeliveryStatus.SENDING.value,
            delivery_meta.get_field("claimed_at").get_db_prep_save(claimed_at, connection),
        ]
        params += [
            [f.get_db_prep_save(f.pre_save(r.attempt, True), connection) for r in records] for f in insert_fields
        ]
        pk = qn(pk_field.column)

        def arrays(of: list[Any]) -> str:
            return ", ".join(f"%s::{field.db_type(connection)}[]" for field in of)

        # Only quoted names and types from the models' metadata go into the text; every value is a parameter.
        sql = (
            f"WITH result AS (UPDATE {qn(delivery_meta.db_table)} AS d SET {', '.join(assignments)}"  # noqa: S608
            f" FROM unnest({arrays(columns)}) AS r ({', '.join(qn(c.column) for c in columns)})"
            f" WHERE d.{pk} = r.{pk} AND d.{status} = %s AND d.{claimed} = %s RETURNING 1)"
            f" INSERT INTO {qn(attempt_meta.db_table)} ({', '.join(qn(f.column) for f in insert_fields)})"
            f" SELECT * FROM unnest({arrays(insert_fields)}) ON CONFLICT DO NOTHING"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def store_for(vendor: str) -> DeliveryStore:
    """The store for a database vendor ("postgresql", "sqlite", ...)."""
    return PostgresDeliveryStore() if vendor == "postgresql" else OrmDeliveryStore()


STORE: DeliveryStore = store_for(connections[router.db_for_write(Delivery)].vendor)
