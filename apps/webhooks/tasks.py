"""Thin tasks: load by id and call a service."""

from __future__ import annotations

from celery import shared_task

from apps.webhooks.services import deliveries_dispatch_due, delivery_attempt, events_relay


@shared_task(ignore_result=True)
def relay_events() -> int:
    """From beat every few seconds, and soon after each commit that wrote a transition."""
    published = 0
    while True:
        count = events_relay()
        published += count
        if count == 0:
            break
    deliveries_dispatch_due()
    return published


@shared_task(ignore_result=True, acks_late=True)
def deliver(delivery_id: str) -> str | None:
    return delivery_attempt(delivery_id=delivery_id)
