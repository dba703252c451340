"""Events out of the audit outbox, webhook endpoints, and signed delivery with retries."""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import urllib3
from django.conf import settings
from django.db import connections, transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.audit.models import Transition
from apps.organizations.models import Organization
from apps.webhooks.destinations import UnsafeDestination, destination_check
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
# Longer delays wait in next_attempt_at for the relay: a Celery countdown that long would sit
# in worker memory, and Redis redelivers it after the visibility timeout.
COUNTDOWN_LIMIT = timedelta(seconds=60)
# A delivery claimed longer ago than WEBHOOKS_REQUEUE_AFTER_SECONDS belongs to a worker that
# died (a send takes at most 10 s); a queued task not run by then was lost (broker down at
# enqueue time, worker killed holding a countdown). The relay queues both again.
ROTATION_OVERLAP = timedelta(hours=24)


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _enqueue(deliveries: Iterable[tuple[Any, float]]) -> None:
    """Queue one delivery task per (id, countdown) after commit; a broker outage only delays them."""
    items = list(deliveries)
    if not items:
        return

    def send() -> None:
        from apps.webhooks.tasks import deliver

        for delivery_id, countdown in items:
            try:
                deliver.apply_async(args=[str(delivery_id)], countdown=countdown or None)
            except Exception:
                logger.warning("Could not queue delivery %s; the relay will retry", delivery_id, exc_info=True)

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
    _enqueue([(delivery.pk, 0)])
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
        _enqueue([(delivery.pk, 0)])
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
        _enqueue((d.pk, 0) for d in deliveries)
    return len(rows)


# A claim younger than this may still be sending (the sender gives up after 10 s).
CLAIM_MINIMUM = timedelta(seconds=TOTAL_TIMEOUT + 5)


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
            .values_list("pk", flat=True)[:limit]
        )
        if due:
            # A delivery queued before (enqueued_at set) counts one more re-queue; one that had
            # no task yet (a long retry, a reset claim) starts over.
            Delivery.objects.filter(pk__in=due).update(
                enqueued_at=now,
                requeues=Case(When(enqueued_at__isnull=True, then=Value(0)), default=F("requeues") + 1),
            )
            _enqueue((pk, 0) for pk in due)
    return len(due)


# --- Delivery ----------------------------------------------------------------------------


def _is_retryable(status_code: int | None, error: str) -> bool:
    if status_code is None:
        return bool(error)  # network error or timeout
    return status_code >= 500 or status_code == 429


def delivery_attempt(*, delivery_id: Any) -> str | None:
    """Make the next attempt of a due delivery. Returns its new status, or None if not ours to send."""
    now = timezone.now()
    # Compare-and-set claim: of two workers handed the same delivery, one sends.
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).update(
        status=DeliveryStatus.SENDING, claimed_at=now, requeues=0
    )
    if not claimed:
        return None
    delivery = Delivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    number = delivery.attempt_count + 1
    body = json.dumps(delivery.event.body(), separators=(",", ":"), ensure_ascii=False)
    status_code: int | None = None
    error = excerpt = ""
    permanent = False
    started = time.monotonic()
    try:
        destination = destination_check(delivery.url)
        holder = delivery.endpoint or _notification_secret(delivery.organization_id)
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
    _result_save(delivery_id=delivery.pk, fields=fields, attempt=attempt)
    if queue_in is not None:
        _enqueue([(delivery.pk, queue_in.total_seconds())])
    return fields["status"]


def _result_save(*, delivery_id: Any, fields: dict[str, Any], attempt: DeliveryAttempt) -> None:
    """Record the attempt and, if this worker still holds the claim, the delivery's new state, together.

    On PostgreSQL one statement (an UPDATE in a WITH, then the INSERT) in one round trip instead
    of four (BEGIN, INSERT, UPDATE, COMMIT); elsewhere the same two writes in a transaction.
    """
    connection = connections[Delivery.objects.db]
    if connection.vendor != "postgresql":
        with transaction.atomic():
            attempt.save(force_insert=True)
            Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(**fields)
        return
    qn = connection.ops.quote_name
    delivery_meta, attempt_meta = Delivery._meta, DeliveryAttempt._meta
    assignments, params = [], []
    for name, value in fields.items():
        field = delivery_meta.get_field(name)
        assignments.append(f"{qn(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    pk_field, status_field = delivery_meta.pk, delivery_meta.get_field("status")
    params += [pk_field.get_db_prep_value(delivery_id, connection), DeliveryStatus.SENDING.value]
    insert_fields = [f for f in attempt_meta.concrete_fields if not f.primary_key]
    params += [f.get_db_prep_save(f.pre_save(attempt, True), connection) for f in insert_fields]
    # Only quoted names from the models' metadata go into the text; every value is a parameter.
    sql = (
        f"WITH result AS (UPDATE {qn(delivery_meta.db_table)} SET {', '.join(assignments)}"  # noqa: S608
        f" WHERE {qn(pk_field.column)} = %s AND {qn(status_field.column)} = %s RETURNING 1)"
        f" INSERT INTO {qn(attempt_meta.db_table)} ({', '.join(qn(f.column) for f in insert_fields)})"
        f" VALUES ({', '.join(['%s'] * len(insert_fields))})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send the same event (same webhook-id) to the endpoint again, as a new delivery."""
    with transaction.atomic():
        again = _delivery_new(event=delivery.event, endpoint=delivery.endpoint, redelivery_of=delivery)
        _enqueue([(again.pk, 0)])
    return again
