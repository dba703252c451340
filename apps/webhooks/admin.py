from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.audit.admin import ReadOnlyAdminMixin
from apps.webhooks.models import Delivery, DeliveryAttempt, Event, WebhookEndpoint
from apps.webhooks.services import delivery_redeliver


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ("url", "organization", "description", "created_at")
    list_filter = ("organization", "created_at")
    search_fields = ("url", "description", "organization__slug")
    date_hierarchy = "created_at"
    fields = ("id", "organization", "url", "events", "description", "previous_secret_expires_at", "created_at")
    readonly_fields = ("id", "organization", "previous_secret_expires_at", "created_at")
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Registration goes through the API, which shows the signing secret once.
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "type", "organization", "id")
    list_filter = ("type", "organization", "created_at")
    search_fields = ("id",)
    date_hierarchy = "created_at"
    readonly_fields = ("id", "organization", "transition", "type", "data", "created_at")


class DeliveryAttemptInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    fields = ("number", "started_at", "duration_ms", "status_code", "error", "response_excerpt")
    readonly_fields = fields
    extra = 0


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "event", "url", "status", "attempt_count", "last_status_code", "next_attempt_at")
    list_filter = ("status", "organization", "event__type", "created_at")
    search_fields = ("id", "url", "event__id")
    date_hierarchy = "created_at"
    list_select_related = ("event",)
    readonly_fields = (
        "id",
        "event",
        "endpoint",
        "url",
        "status",
        "attempt_count",
        "next_attempt_at",
        "last_status_code",
        "last_error",
        "last_response_excerpt",
        "succeeded_at",
        "redelivery_of",
        "created_at",
        "updated_at",
    )
    inlines = (DeliveryAttemptInline,)
    actions = ("redeliver",)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Viewing needs the change permission for actions; fields stay read-only.
        return request.user.has_perm("webhooks.change_delivery")

    @admin.action(description="Redeliver selected deliveries (same event, same webhook-id)")
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = 0
        for delivery in queryset.select_related("event", "endpoint"):
            delivery_redeliver(delivery=delivery)
            count += 1
        self.message_user(request, f"Queued {count} redelivery(ies).", level=messages.SUCCESS)
