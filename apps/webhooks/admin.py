from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from apps.backoffice.admin_tools import BackOfficeAdmin, ReadOnlyAdminMixin
from apps.webhooks.destinations import UnsafeDestination, destination_check
from apps.webhooks.events import EVENT_TYPES
from apps.webhooks.models import Delivery, DeliveryAttempt, Event, NotificationSecret, WebhookEndpoint
from apps.webhooks.relay import delivery_redeliver


class WebhookEndpointForm(forms.ModelForm):
    """Staff edits pass the same checks as registration through the API."""

    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")

    class Meta:
        model = WebhookEndpoint
        fields = ("url", "events", "description")

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        try:
            destination_check(url)
        except UnsafeDestination as exc:
            raise forms.ValidationError(str(exc)) from None
        return url

    def clean_events(self) -> list[str]:
        events = self.cleaned_data["events"]
        if not isinstance(events, list) or not events or any(e not in EVENT_TYPES for e in events):
            raise forms.ValidationError(
                gettext("A non-empty list of event types from: %(types)s.") % {"types": ", ".join(EVENT_TYPES)}
            )
        return list(dict.fromkeys(events))


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(BackOfficeAdmin):
    form = WebhookEndpointForm
    list_display = ("url", "organization", "description", "created_at")
    list_filter = ("organization", "created_at")
    search_fields = ("url", "description", "organization__slug")
    date_hierarchy = "created_at"
    fields = ("id", "organization", "url", "events", "description", "previous_secret_expires_at", "created_at")
    readonly_fields = ("id", "organization", "previous_secret_expires_at", "created_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Registration goes through the API, which shows the signing secret once.
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
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
class DeliveryAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    list_display = ("created_at", "event", "url", "status", "attempt_count", "last_status_code", "next_attempt_at")
    list_filter = ("status", "organization", "event__type", "created_at", "succeeded_at")
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
    object_actions = ("redeliver",)

    def has_redeliver_permission(self, request: HttpRequest) -> bool:
        # The delivery's fields stay read-only; the change permission is what lets an operator resend it.
        return request.user.has_perm("webhooks.change_delivery")

    @admin.action(description=_("Redeliver (same event, same webhook-id)"), permissions=["redeliver"])
    def redeliver(self, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
        count = 0
        for delivery in queryset.select_related("event", "endpoint"):
            again = delivery_redeliver(delivery=delivery)
            self.log_change(request, delivery, f"Redelivered as delivery {again.pk}.")
            count += 1
        if count:
            self.message_user(
                request,
                ngettext("Queued %(n)d redelivery.", "Queued %(n)d redeliveries.", count) % {"n": count},
                level=messages.SUCCESS,
            )
        else:
            self.message_user(request, gettext("Nothing to redeliver."), level=messages.WARNING)


@admin.register(DeliveryAttempt)
class DeliveryAttemptAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    organization_path = "delivery__organization"
    list_display = ("started_at", "delivery", "number", "status_code", "duration_ms", "error")
    list_filter = ("status_code", "delivery__organization", "delivery__status", "started_at")
    list_select_related = ("delivery__event",)
    search_fields = ("delivery__id", "delivery__url", "error")
    date_hierarchy = "started_at"
    fields = ("delivery", "number", "started_at", "duration_ms", "status_code", "error", "response_excerpt")
    readonly_fields = fields


@admin.register(NotificationSecret)
class NotificationSecretAdmin(ReadOnlyAdminMixin, BackOfficeAdmin):
    """When each organization's notification secret was last rotated; the secrets never show."""

    list_display = ("organization", "rotated_at", "previous_secret_expires_at")
    list_filter = ("organization", "rotated_at")
    list_select_related = ("organization",)
    search_fields = ("organization__slug", "organization__name")
    date_hierarchy = "rotated_at"
    fields = ("organization", "rotated_at", "previous_secret_expires_at")
    readonly_fields = fields
