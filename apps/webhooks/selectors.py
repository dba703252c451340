from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet

from apps.organizations.models import Organization
from apps.webhooks.models import Delivery, DeliveryAttempt, WebhookEndpoint


def endpoint_get(*, organization: Organization, endpoint_id: Any) -> WebhookEndpoint | None:
    return WebhookEndpoint.objects.filter(organization=organization, pk=endpoint_id).first()


def endpoint_list(*, organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization)


def delivery_list(*, endpoint: WebhookEndpoint, status: str | None = None) -> QuerySet[Delivery]:
    qs = (
        Delivery.objects.filter(endpoint=endpoint)
        .select_related("event")
        .prefetch_related(Prefetch("attempts", queryset=DeliveryAttempt.objects.order_by("number")))
    )
    return qs.filter(status=status) if status else qs


def delivery_get(*, endpoint: WebhookEndpoint, delivery_id: Any) -> Delivery | None:
    return Delivery.objects.filter(endpoint=endpoint, pk=delivery_id).select_related("event", "endpoint").first()
