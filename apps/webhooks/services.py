"""Events out of the audit outbox, webhook endpoints, and signed delivery with retries."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone

from apps.audit.models import Transition
from apps.core.task_queue import enqueue
from apps.organizations.models import Organization
from apps.webhooks.destinations import Destination, UnsafeDestination, destination_check
from apps.webhooks.events import PING, event_data
from apps.webhooks.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    Event,
    NotificationSecret,
    SigningSecrets,
    WebhookEndpoint,
)
from apps.webhooks.sender import TOTAL_TIMEOUT, post, sign_headers

logger = logging.getLogger(__name__)

# Delay before attempt n+1 after attempt n failed: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
RETRY_DELAYS = [
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
]
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Deliveries per task: claimed in one statement, sent one after another over a kept-alive
# connection, recorded in one statement.
DELIVERY_BATCH_SIZE = 100
# Longer delays wait in next_attempt_at for the relay: a Celery countdown that long would sit
# in worker memory, and Redis redelivers it after the visibility timeout.
COUNTDOWN_LIMIT = timedelta(seconds=60)
# A delivery claimed longer ago than WEBHOOKS_REQUEUE_AFTER_SECONDS belongs to a worker that
# died (a send takes at most 10 s); a queued task not run by then was lost (broker down at
# enqueue time, worker killed holding a countdown). The relay queues both again.
ROTATION_OVERLAP = timedelta(hours=24)


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _enqueue(deliveries: Iterable[tuple[Any, str, float]]) -> None:
    """Queue delivery tasks for (id, url, countdown) after commit; a broker outage only delays them.

    One task per destination URL and countdown, with up to DELIVERY_BATCH_SIZE ids: the task
    claims and sends them together over one kept-alive connection, and a slow destination
    holds up only its own batches.
    """
    groups: dict[tuple[str, float], list[str]] = defaultdict(list)
    for delivery_id, url, countdown in deliveries:
        groups[(url, countdown or 0)].append(str(delivery_id))
    if not groups:
        return
    batches = [
        (ids[start : start + DELIVERY_BATCH_SIZE], countdown)
        for (_, countdown), ids in groups.items()
        for start in range(0, len(ids), DELIVERY_BATCH_SIZE)
    ]

    def send() -> None:
        for ids, countdown in batches:
            try:
                enqueue("apps.webhooks.tasks.deliver", args=ids, countdown=countdown or None)
            except Exception:
                logger.warning("Could not queue %d deliveries; the relay will retry", len(ids), exc_info=True)

    transaction.on_commit(send)


# --- Endpoints -------------------------------------------------------------------------


def endpoint_create(
    *, organization: Organization, url: str, events: list[str], description: str = ""
) -> tuple[WebhookEndpoint, str]:
    """Register an endpoint. Returns it with its secret, which is shown only this once."""
    destination_check(url)
    secret = _new_secret()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization, url=url, events=list(dict.fromkeys(events)), description=description, secret=secret
    )
    return endpoint, secret


def _rotate(holder: SigningSecrets, overlap: timedelta) -> str:
    """Give a locked secret holder a new secret; the old one keeps signing for `overlap`."""
    secret = _new_secret()
    holder.previous_secret = holder.secret
    holder.previous_secret_expires_at = timezone.now() + overlap
    holder.secret = secret
    return secret


def endpoint_rotate_secret(
    *, endpoint: WebhookEndpoint, overlap: timedelta = ROTATION_OVERLAP
) -> tuple[WebhookEndpoint, str]:
    """New secret now, shown once; the old one keeps signing alongside it for `overlap`."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        secret = _rotate(locked, overlap)
        locked.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at"])
    return locked, secret


def _notification_secret(organization_id: Any, *, lock: bool = False) -> NotificationSecret:
    qs = NotificationSecret.objects.select_for_update() if lock else NotificationSecret.objects
    holder, _ = qs.get_or_create(organization_id=organization_id, defaults={"secret": _new_secret()})
    return holder


def notification_secret_rotate(
    *, organization: Organization, overlap: timedelta = ROTATION_OVERLAP
) -> tuple[NotificationSecret, str]:
    """New secret for the organization's per-object notifications, shown once."""
    with transaction.atomic():
        holder = _notification_secret(organization.pk, lock=True)
        secret = _rotate(holder, overlap)
        holder.rotated_at = timezone.now()
        holder.save()
    return holder, secret


def notification_send(*, organization_id: Any, url: str, event_type: str, body: dict[str, Any]) -> Delivery:
    """POST `body` to a per-object URL (notificationUrl, callback), signed and retried like webhooks.

    Call inside the transaction that made the change: the delivery is queued on commit.
    """
    event = Event.objects.create(organization_id=organization_id, type=event_type, data=body, envelope=False)
    now = timezone.now()
    delivery = Delivery.objects.create(
        event=event, organization_id=organization_id, url=url, next_attempt_at=now, enqueued_at=now
    )
    _enqueue([(delivery.pk, delivery.url, 0)])
    return delivery


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    endpoint.delete()


def endpoint_ping(*, endpoint: WebhookEndpoint) -> Delivery:
    """A webhook.ping event to this endpoint only, delivered like any event."""
    with transaction.atomic():
        event = Event.objects.create(
            organization_id=endpoint.organization_id,
            type=PING,
            data={"endpoint_id": str(endpoint.pk), "message": "ping"},
        )
        delivery = _delivery_new(event=event, endpoint=endpoint)
        _enqueue([(delivery.pk, delivery.url, 0)])
    return delivery


# --- The outbox relay ------------------------------------------------------------------


def _delivery_new(*, event: Event, endpoint: WebhookEndpoint | None, redelivery_of: Delivery | None = None) -> Delivery:
    now = timezone.now()
    return Delivery.objects.create(
        event=event,
        organization_id=event.organization_id,
        endpoint=endpoint,
        url=endpoint.url if endpoint else redelivery_of.url if redelivery_of else "",
        next_attempt_at=now,
        enqueued_at=now,
        redelivery_of=redelivery_of,
    )


def events_relay(*, batch_size: int = 500) -> int:
    """Publish unpublished audit transitions as events with their deliveries. Safe to run twice.

    skip_locked lets several relays run at once without waiting or publishing a row twice;
    the events, deliveries and published_at stamp commit together, so a crash publishes nothing.
    """
    with transaction.atomic():
        rows = list(
            Transition.objects.select_for_update(skip_locked=True)
            .filter(published_at__isnull=True)
            .order_by("id")[:batch_size]
        )
        if not rows:
            return 0
        org_ids = {t.organization_id for t in rows if t.organization_id}
        endpoints: dict[Any, list[WebhookEndpoint]] = defaultdict(list)
        for endpoint in WebhookEndpoint.objects.filter(organization_id__in=org_ids):
            endpoints[endpoint.organization_id].append(endpoint)
        events = [
            Event(
                organization_id=t.organization_id,
                transition=t,
                type=t.event_type,
                data=event_data(t),
                created_at=t.created_at,
            )
            for t in rows
        ]
        Event.objects.bulk_create(events)
        now = timezone.now()
        deliveries = [
            Delivery(
                event=event,
                organization_id=event.organization_id,
                endpoint=endpoint,
                url=endpoint.url,
                next_attempt_at=now,
                enqueued_at=now,
            )
            for event in events
            for endpoint in endpoints.get(event.organization_id, ())
            if event.type in endpoint.events
        ]
        Delivery.objects.bulk_create(deliveries)
        Transition.objects.filter(id__in=[t.id for t in rows]).update(published_at=now)
        _enqueue((d.pk, d.url, 0) for d in deliveries)
    return len(rows)


# A batch starts no send later than this after its claim, and each send gives up after
# TOTAL_TIMEOUT: a claim younger than CLAIM_MINIMUM may still be sending. What a batch did not
# get to in time goes back to pending and is queued again.
BATCH_SEND_SECONDS = 15.0
CLAIM_MINIMUM = timedelta(seconds=BATCH_SEND_SECONDS + TOTAL_TIMEOUT + 5)


def _requeue_after() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS_REQUEUE_AFTER_SECONDS)


# Each re-queue of a delivery no task has claimed doubles the wait before the next one, up to
# 2**REQUEUE_BACKOFF_STEPS windows: a queue running further behind than the window then holds a
# few copies of its backlog, not one more per window.
REQUEUE_BACKOFF_STEPS = 5


def _stale(now: Any) -> Q:
    """Queued long enough ago, counting its re-queues, that its task may have been lost."""
    window = _requeue_after()
    stale = Q(enqueued_at__isnull=True)
    for step in range(REQUEUE_BACKOFF_STEPS):
        stale |= Q(requeues=step, enqueued_at__lt=now - window * 2**step)
    return stale | Q(requeues__gte=REQUEUE_BACKOFF_STEPS, enqueued_at__lt=now - window * 2**REQUEUE_BACKOFF_STEPS)


def deliveries_dispatch_due(*, limit: int = 1000) -> int:
    """Queue deliveries that are due and have no live task: long retries, lost tasks, dead workers."""
    now = timezone.now()
    # A worker that died mid-send left its claim; the attempt is retried (same webhook-id).
    Delivery.objects.filter(
        status=DeliveryStatus.SENDING, claimed_at__lt=now - max(_requeue_after(), CLAIM_MINIMUM)
    ).update(status=DeliveryStatus.PENDING, claimed_at=None, enqueued_at=None, requeues=0)
    with transaction.atomic():
        due = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            .filter(_stale(now))
            .values_list("pk", "url")[:limit]
        )
        if due:
            # A delivery queued before (enqueued_at set) counts one more re-queue; one that had
            # no task yet (a long retry, a reset claim) starts over.
            Delivery.objects.filter(pk__in=[pk for pk, _ in due]).update(
                enqueued_at=now,
                requeues=Case(When(enqueued_at__isnull=True, then=Value(0)), default=F("requeues") + 1),
            )
            _enqueue((pk, url, 0) for pk, url in due)
    return len(due)


# --- Delivery ----------------------------------------------------------------------------


def _is_retryable(status_code: int | None, error: str) -> bool:
    if status_code is None:
        return bool(error)  # network error or timeout
    return status_code >= 500 or status_code == 429


@dataclass
class _Outcome:
    """One attempt's result: the attempt row, the delivery's new state, and when to queue it again."""

    delivery: Delivery
    attempt: DeliveryAttempt
    fields: dict[str, Any]
    queue_in: timedelta | None


def delivery_attempt(*, delivery_id: Any) -> str | None:
    """Make the next attempt of a due delivery. Returns its new status, or None if not ours to send."""
    return deliveries_attempt(delivery_ids=[delivery_id]).get(_as_uuid(delivery_id))


def deliveries_attempt(*, delivery_ids: Sequence[Any]) -> dict[uuid.UUID, str]:
    """Attempt those of these deliveries that are due and unclaimed. Returns {id: new status} of those sent.

    Three statements however many there are: the claim, the deliveries with their events and
    endpoints, and the results (attempt rows and new states) together; per-object notifications
    add their organization's secret, once per batch. Each destination URL is resolved and
    checked once per batch, and every send to it reuses a kept-alive connection to the address
    checked. Sends start for BATCH_SEND_SECONDS at most, so that the claims' lease
    (CLAIM_MINIMUM) covers the whole batch; the rest is released and queued again.
    """
    claimed_at = timezone.now()
    wanted = [_as_uuid(pk) for pk in delivery_ids]
    ids = _claim(wanted, claimed_at)
    if not ids:
        return {}
    order = {pk: n for n, pk in enumerate(wanted)}  # sent in the order given (the events' order)
    deliveries = sorted(
        Delivery.objects.select_related("event", "endpoint").filter(pk__in=_id_list(ids)), key=lambda d: order[d.pk]
    )
    stop_at = time.monotonic() + BATCH_SEND_SECONDS
    destinations: dict[str, Destination | UnsafeDestination] = {}
    notification_secrets: dict[Any, NotificationSecret] = {}
    outcomes: list[_Outcome] = []
    failed = False
    try:
        for delivery in deliveries:
            if outcomes and time.monotonic() > stop_at:
                break
            outcomes.append(_send(delivery, destinations, notification_secrets))
    except BaseException:
        # What was sent is recorded all the same (so it is not sent again); the delivery that
        # raised keeps its claim, which the relay resets after the lease, as for a dead worker.
        failed = True
        raise
    finally:
        _results_save(outcomes, claimed_at=claimed_at)
        _enqueue(
            (o.delivery.pk, o.delivery.url, o.queue_in.total_seconds()) for o in outcomes if o.queue_in is not None
        )
        unsent = deliveries[len(outcomes) + (1 if failed else 0) :]
        if unsent:
            _release(unsent, claimed_at=claimed_at)
    return {o.delivery.pk: o.fields["status"] for o in outcomes}


def _id_list(ids: list[uuid.UUID]) -> list[uuid.UUID] | RawSQL:
    """`ids` for a pk__in filter: on PostgreSQL one array parameter, not a placeholder per id."""
    if connections[Delivery.objects.db].vendor != "postgresql":
        return ids
    return RawSQL("SELECT unnest(%s::uuid[])", [ids])


def _as_uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _claim(ids: list[uuid.UUID], claimed_at: Any) -> list[uuid.UUID]:
    """Mark the due, pending ones of `ids` as being sent by this worker; the ids it got.

    On PostgreSQL one statement: rows another worker is claiming right now are skipped, not
    waited for (SKIP LOCKED), and a row is claimed only while pending, so of two workers handed
    the same delivery (a redelivered task, a re-queue) one sends. Elsewhere a compare-and-set
    UPDATE per delivery gives the same guarantee.
    """
    connection = connections[Delivery.objects.db]
    if connection.vendor != "postgresql":
        return [
            pk
            for pk in ids
            if Delivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING, next_attempt_at__lte=claimed_at).update(
                status=DeliveryStatus.SENDING, claimed_at=claimed_at, requeues=0
            )
        ]
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
        ids,
        DeliveryStatus.PENDING.value,
        claimed_value,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_as_uuid(row[0]) for row in cursor.fetchall()]


def _send(
    delivery: Delivery,
    destinations: dict[str, Destination | UnsafeDestination],
    notification_secrets: dict[Any, NotificationSecret],
) -> _Outcome:
    """One signed POST of a claimed delivery, and what it means for the delivery."""
    number = delivery.attempt_count + 1
    body = json.dumps(delivery.event.body(), separators=(",", ":"), ensure_ascii=False)
    status_code: int | None = None
    error = excerpt = ""
    permanent = False
    now = timezone.now()
    started = time.monotonic()
    try:
        destination = destinations.get(delivery.url)
        if destination is None:
            # Resolved and checked once per batch: every send to it goes to the address checked.
            try:
                destination = destination_check(delivery.url)
            except UnsafeDestination as exc:
                destination = exc
            destinations[delivery.url] = destination
        if isinstance(destination, UnsafeDestination):
            raise destination
        holder: SigningSecrets | None = delivery.endpoint
        if holder is None:
            holder = notification_secrets.get(delivery.organization_id)
            if holder is None:
                holder = notification_secrets[delivery.organization_id] = _notification_secret(delivery.organization_id)
        headers = sign_headers(
            secrets=holder.signing_secrets(now=now),
            message_id=delivery.event.message_id,
            timestamp=now,
            body=body,
        )
        result = post(destination, body.encode(), headers)
        status_code, excerpt = result.status_code, result.excerpt
    except UnsafeDestination as exc:
        error, permanent = f"Refused: {exc}", True
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:1000]
    duration_ms = int((time.monotonic() - started) * 1000)

    succeeded = status_code is not None and 200 <= status_code < 300
    retry = not succeeded and not permanent and _is_retryable(status_code, error) and number < MAX_ATTEMPTS
    delay = RETRY_DELAYS[number - 1] if retry else None
    finished = timezone.now()
    fields: dict[str, Any] = {
        "attempt_count": number,
        "claimed_at": None,
        "last_status_code": status_code,
        "last_error": error,
        "last_response_excerpt": excerpt,
        "updated_at": finished,
    }
    queue_in: timedelta | None = None
    if succeeded:
        fields.update(status=DeliveryStatus.SUCCEEDED, succeeded_at=finished, next_attempt_at=None)
    elif retry and delay is not None:
        queue_in = delay if delay <= COUNTDOWN_LIMIT else None
        fields.update(
            status=DeliveryStatus.PENDING,
            next_attempt_at=finished + delay,
            enqueued_at=finished + delay if queue_in is not None else None,
        )
    else:
        fields.update(status=DeliveryStatus.DEAD, next_attempt_at=None)
    attempt = DeliveryAttempt(
        delivery_id=delivery.pk,
        number=number,
        started_at=now,
        duration_ms=duration_ms,
        status_code=status_code,
        error=error,
        response_excerpt=excerpt,
    )
    return _Outcome(delivery, attempt, fields, queue_in)


# The delivery columns a result sets: one array each in the result statement.
_RESULT_FIELDS = (
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


def _results_save(outcomes: list[_Outcome], *, claimed_at: Any) -> None:
    """Record every attempt and, where this worker still holds the claim, the delivery's new state.

    A delivery whose claim was reset meanwhile (its worker presumed dead) belongs to whoever holds
    it now: its attempt row is written (unless that worker already wrote one with the same
    number), its state is left alone. On PostgreSQL one statement for
    the whole batch (an UPDATE … FROM unnest(arrays) in a WITH, then the INSERT of the attempts), so one
    round trip and one commit; elsewhere the same writes in one transaction.
    """
    if not outcomes:
        return
    connection = connections[Delivery.objects.db]
    if connection.vendor != "postgresql":
        with transaction.atomic():
            DeliveryAttempt.objects.bulk_create([o.attempt for o in outcomes], ignore_conflicts=True)
            for o in outcomes:
                Delivery.objects.filter(pk=o.delivery.pk, status=DeliveryStatus.SENDING, claimed_at=claimed_at).update(
                    **o.fields
                )
        return
    qn = connection.ops.quote_name
    delivery_meta, attempt_meta = Delivery._meta, DeliveryAttempt._meta
    pk_field = delivery_meta.pk
    fields = [delivery_meta.get_field(name) for name in _RESULT_FIELDS]
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
        [pk_field.get_db_prep_value(o.delivery.pk, connection) for o in outcomes],
        *(
            [
                field.get_db_prep_save({"succeeded_at": None, "enqueued_at": None, **o.fields}[field.name], connection)
                for o in outcomes
            ]
            for field in fields
        ),
    ]
    params += [
        DeliveryStatus.SENDING.value,
        delivery_meta.get_field("claimed_at").get_db_prep_save(claimed_at, connection),
    ]
    params += [[f.get_db_prep_save(f.pre_save(o.attempt, True), connection) for o in outcomes] for f in insert_fields]
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


def _release(deliveries: list[Delivery], *, claimed_at: Any) -> None:
    """Hand claimed deliveries this batch had no time left to send back to pending, and queue them again.

    A claim reset meanwhile is left alone; its copy of the task then finds nothing to claim.
    """
    Delivery.objects.filter(
        pk__in=[d.pk for d in deliveries], status=DeliveryStatus.SENDING, claimed_at=claimed_at
    ).update(status=DeliveryStatus.PENDING, claimed_at=None, enqueued_at=timezone.now(), requeues=0)
    _enqueue((d.pk, d.url, 0) for d in deliveries)


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send the same event (same webhook-id) to the endpoint again, as a new delivery."""
    with transaction.atomic():
        again = _delivery_new(event=delivery.event, endpoint=delivery.endpoint, redelivery_of=delivery)
        _enqueue([(again.pk, again.url, 0)])
    return again
