"""Webhook endpoints and the signing secrets of endpoints and per-object notifications."""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.organizations.models import Organization
from apps.webhooks.destinations import destination_check
from apps.webhooks.events import PING
from apps.webhooks.models import Delivery, Event, NotificationSecret, SigningSecrets, WebhookEndpoint
from apps.webhooks.queue import delivery_new

ROTATION_OVERLAP = timedelta(hours=24)


def _new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


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
        return delivery_new(event=event, endpoint=endpoint)


def notification_secret_get(organization_id: Any, *, lock: bool = False) -> NotificationSecret:
    """The organization's secret for per-object notifications, made on first use."""
    qs = NotificationSecret.objects.select_for_update() if lock else NotificationSecret.objects
    holder, _ = qs.get_or_create(organization_id=organization_id, defaults={"secret": _new_secret()})
    return holder


def notification_secret_rotate(
    *, organization: Organization, overlap: timedelta = ROTATION_OVERLAP
) -> tuple[NotificationSecret, str]:
    """New secret for the organization's per-object notifications, shown once."""
    with transaction.atomic():
        holder = notification_secret_get(organization.pk, lock=True)
        secret = _rotate(holder, overlap)
        holder.rotated_at = timezone.now()
        holder.save()
    return holder, secret
