from __future__ import annotations

from apps.api.urls import api_path
from apps.webhooks.api import views

base = "orgs/<slug:org_id>/webhooks"
one = f"{base}/<uuid:webhook_id>"

urlpatterns = [
    *api_path(
        "orgs/<slug:org_id>/notification-secret/rotate",
        views.NotificationSecretRotateApi.as_view(),
        name="notification-secret-rotate",
    ),
    *api_path(base, views.WebhookListCreateApi.as_view(), name="webhooks"),
    *api_path(one, views.WebhookDetailApi.as_view(), name="webhook"),
    *api_path(f"{one}/rotate-secret", views.WebhookRotateSecretApi.as_view(), name="webhook-rotate-secret"),
    *api_path(f"{one}/ping", views.WebhookPingApi.as_view(), name="webhook-ping"),
    *api_path(f"{one}/deliveries", views.WebhookDeliveriesApi.as_view(), name="webhook-deliveries"),
    *api_path(
        f"{one}/deliveries/<uuid:delivery_id>/redeliver", views.WebhookRedeliverApi.as_view(), name="webhook-redeliver"
    ),
]
