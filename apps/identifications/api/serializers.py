from __future__ import annotations

from datetime import timedelta
from typing import Any

from rest_framework import serializers

from apps.api.durations import IsoDurationField
from apps.api.serializers import StrictSerializer
from apps.identifications.links import identification_url
from apps.identifications.models import Channel, IdentificationStatus, OtpIdentification, TwoFactorType

MAX_EXPIRES_IN = timedelta(days=30)


class IdentificationActorSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    surname = serializers.CharField(max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True, max_length=254)
    phone = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="International form, e.g. +34600111222."
    )
    document_number = serializers.CharField(required=False, allow_blank=True, max_length=64)


class CommunicationChannelSerializer(StrictSerializer):
    type = serializers.ChoiceField(choices=Channel.choices, help_text="EMAIL needs actor.email; SMS needs actor.phone.")


class IdentificationCreateSerializer(StrictSerializer):
    read_only_input = ("id", "status", "url", "expires_at", "created_at", "updated_at")

    actor = IdentificationActorSerializer()
    expires_in = IsoDurationField(
        minimum=timedelta(seconds=1),
        maximum=MAX_EXPIRES_IN,
        required=False,
        help_text="Validity from now: from PT1S to P30D; P30D when absent.",
    )
    two_factor_type = serializers.ChoiceField(
        choices=TwoFactorType.choices,
        required=False,
        allow_null=True,
        help_text="Without it the one-time code alone identifies.",
    )
    channel = CommunicationChannelSerializer()


class IdentificationCancelSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, help_text="Why the process is canceled.")


class IdentificationDeleteQuerySerializer(StrictSerializer):
    force = serializers.ChoiceField(
        choices=["true", "false"],
        required=False,
        help_text="`true` deletes in any state; needs the identifications:force-delete scope.",
    )


class IdentificationListQuerySerializer(StrictSerializer):
    status = serializers.ChoiceField(
        choices=IdentificationStatus.choices,
        required=False,
        help_text="As shown: an open identification past expires_at is EXPIRED.",
    )
    created_after = serializers.DateTimeField(
        required=False, help_text="ISO-8601 timestamp, e.g. 2026-11-23T10:00:00Z; created at or after it."
    )
    created_before = serializers.DateTimeField(
        required=False, help_text="ISO-8601 timestamp, e.g. 2026-11-24T10:00:00Z; created before it."
    )
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after is not None and before is not None and before <= after:
            raise serializers.ValidationError({"created_before": ["Must be later than created_after."]})
        return attrs


class IdentificationActorOutSerializer(serializers.Serializer):
    name = serializers.CharField(source="actor_name")
    surname = serializers.CharField(source="actor_surname")
    email = serializers.CharField(source="actor_email", allow_null=True)
    phone = serializers.CharField(source="actor_phone", allow_null=True)
    document_number = serializers.CharField(source="actor_document_number", allow_null=True)

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)
        return {key: value or None for key, value in data.items()}


class ChannelOutSerializer(serializers.Serializer):
    type = serializers.ChoiceField(source="channel", choices=Channel.choices)


class IdentificationSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=IdentificationStatus.choices)
    url = serializers.SerializerMethodField(help_text="The actor's page (the link is also sent over the channel).")
    expires_at = serializers.DateTimeField()
    two_factor_type = serializers.ChoiceField(choices=TwoFactorType.choices, allow_null=True)
    channel = ChannelOutSerializer(source="*")
    actor = IdentificationActorOutSerializer(source="*")
    cancel_reason = serializers.CharField(allow_null=True, help_text="CANCELED only.")
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    def get_url(self, identification: OtpIdentification) -> str:
        return identification_url(identification)

    def to_representation(self, identification: OtpIdentification) -> dict[str, Any]:
        data = super().to_representation(identification)
        data["two_factor_type"] = data["two_factor_type"] or None
        data["cancel_reason"] = data["cancel_reason"] or None
        return data
