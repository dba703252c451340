"""New deliveries and the Celery tasks that send them, queued after commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.core.task_queue import enqueue
from apps.webhooks.models import Delivery, Event, WebhookEndpoint

logger = logging.getLogger(__name__)

# Deliveries per task: claimed in one statement, sent one after another over a kept-alive
# connection, recorded in one statement.
DELIVERY_BATCH_SIZE = 100


def deliveries_enqueue(deliveries: Iterable[tuple[Any, str, float]]) -> None:
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


def delivery_new(*, event: Event, endpoint: WebhookEndpoint | None, redelivery_of: Delivery | None = None) -> Delivery:
    """A pending delivery of `event` to the endpoint (or the redelivered one's URL), queued on commit."""
    now = timezone.now()
    delivery = Delivery.objects.create(
        event=event,
        organization_id=event.organization_id,
        endpoint=endpoint,
        url=endpoint.url if endpoint else redelivery_of.url if redelivery_of else "",
        next_attempt_at=now,
        enqueued_at=now,
        redelivery_of=redelivery_of,
    )
    deliveries_enqueue([(delivery.pk, delivery.url, 0)])
    return delivery
