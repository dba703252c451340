"""From the audit outbox to events and deliveries, per-object notifications, and re-queuing what is due."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from apps.audit.models import Transition
from apps.webhooks.delivery import CLAIM_MINIMUM
from apps.webhooks.events import event_data
from apps.webhooks.models import Delivery, DeliveryStatus, Event, WebhookEndpoint
from apps.webhooks.queue import deliveries_enqueue, delivery_new

# A delivery claimed longer ago than WEBHOOKS_REQUEUE_AFTER_SECONDS belongs to a worker that
# died (a send takes at most 10 s); a queued task not run by then was lost (broker down at
# enqueue time, worker killed holding a countdown). The relay queues both again.
# Each re-queue of a delivery no task has claimed doubles the wait before the next one, up to
# 2**REQUEUE_BACKOFF_STEPS windows: a queue running further behind than the window then holds a
# few copies of its backlog, not one more per window.
REQUEUE_BACKOFF_STEPS = 5


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
        deliveries_enqueue((d.pk, d.url, 0) for d in deliveries)
    return len(rows)


def notification_send(*, organization_id: Any, url: str, event_type: str, body: dict[str, Any]) -> Delivery:
    """POST `body` to a per-object URL (notificationUrl, callback), signed and retried like webhooks.

    Call inside the transaction that made the change: the delivery is queued on commit.
    """
    event = Event.objects.create(organization_id=organization_id, type=event_type, data=body, envelope=False)
    now = timezone.now()
    delivery = Delivery.objects.create(
        event=event, organization_id=organization_id, url=url, next_attempt_at=now, enqueued_at=now
    )
    deliveries_enqueue([(delivery.pk, delivery.url, 0)])
    return delivery


def delivery_redeliver(*, delivery: Delivery) -> Delivery:
    """Send the same event (same webhook-id) to the endpoint again, as a new delivery."""
    with transaction.atomic():
        return delivery_new(event=delivery.event, endpoint=delivery.endpoint, redelivery_of=delivery)


def _requeue_after() -> timedelta:
    return timedelta(seconds=settings.WEBHOOKS_REQUEUE_AFTER_SECONDS)


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
            deliveries_enqueue((pk, url, 0) for pk, url in due)
    return len(due)
