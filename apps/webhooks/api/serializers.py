from __future__ import annotations

from typing import Any

from rest_framework import serializers

from apps.api.serializers import StrictSerializer
from apps.webhooks.destinations import UnsafeDestination, destination_check
from apps.webhooks.events import EVENT_TYPES
from apps.webhooks.models import DeliveryStatus


class WebhookSerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    url = serializers.URLField(read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=list(EVENT_TYPES)), read_only=True)
    description = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="`whsec_...`; shown only in this response.")


class WebhookCreateSerializer(StrictSerializer):
    read_only_input = ("id", "secret", "created_at")

    url = serializers.URLField(max_length=2000)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)), min_length=1, max_length=len(EVENT_TYPES)
    )
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    def validate_url(self, value: str) -> str:
        try:
            destination_check(value)
        except UnsafeDestination as exc:
            raise serializers.ValidationError(str(exc), code="unsafe_url") from None
        return value


class DeliveryAttemptSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    started_at = serializers.DateTimeField()
    duration_ms = serializers.IntegerField()
    status_code = serializers.IntegerField(allow_null=True)
    error = serializers.CharField()
    response_excerpt = serializers.CharField()


class DeliverySerializer(serializers.Serializer):
    id = serializers.UUIDField()
    event_id = serializers.SerializerMethodField(help_text="The webhook-id header of every attempt.")
    event_type = serializers.CharField(source="event.type")
    url = serializers.URLField()
    status = serializers.ChoiceField(choices=DeliveryStatus.choices)
    attempt_count = serializers.IntegerField()
    next_attempt_at = serializers.DateTimeField(allow_null=True)
    last_status_code = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField()
    last_response_excerpt = serializers.CharField()
    succeeded_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    attempts = DeliveryAttemptSerializer(many=True)

    def get_event_id(self, delivery: Any) -> str:
        return delivery.event.message_id


class DeliveryListQuerySerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=DeliveryStatus.choices, required=False)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class PageQuerySerializer(StrictSerializer):
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class NotificationSecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="`whsec_...`; shown only in this response.")
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="Until then the previous secret signs too."
    )
