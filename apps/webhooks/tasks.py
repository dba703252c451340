"""Thin tasks: load by id and call a service."""

from __future__ import annotations

import logging

from celery import shared_task
from django.core.cache import cache

from apps.webhooks.delivery import deliveries_attempt
from apps.webhooks.relay import deliveries_dispatch_due, events_relay

logger = logging.getLogger(__name__)

# Set while a relay task is queued and has not started: commits in the meantime queue none,
# since that task will publish their transitions. It expires on its own should the task be
# lost, and beat runs the relay every few seconds regardless.
RELAY_QUEUED_KEY = "webhooks:relay-queued"
RELAY_QUEUED_SECONDS = 1


def relay_soon() -> bool:
    """Queue the relay unless one is already waiting to start. Returns whether it queued one."""
    if not cache.add(RELAY_QUEUED_KEY, 1, RELAY_QUEUED_SECONDS):
        return False
    try:
        relay_events.delay()
    except Exception:
        cache.delete(RELAY_QUEUED_KEY)
        logger.warning("Could not queue the event relay; beat will publish the event", exc_info=True)
        return False
    return True


@shared_task(name="apps.webhooks.tasks.relay_events", ignore_result=True)
def relay_events() -> int:
    """From beat every few seconds, and soon after each commit that wrote a transition."""
    # From here on a new commit queues another run: this one may have read before it.
    cache.delete(RELAY_QUEUED_KEY)
    published = 0
    while True:
        count = events_relay()
        published += count
        if count == 0:
            break
    deliveries_dispatch_due()
    return published


@shared_task(name="apps.webhooks.tasks.deliver", ignore_result=True, acks_late=True)
def deliver(*delivery_ids: str) -> int:
    """Attempt these deliveries (one destination's, up to DELIVERY_BATCH_SIZE); how many were sent.

    A redelivered copy of the task (acks_late) finds them claimed or done and sends nothing.
    """
    return len(deliveries_attempt(delivery_ids=delivery_ids))
