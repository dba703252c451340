from __future__ import annotations

from rest_framework import serializers

from apps.api.durations import IsoDurationField
from apps.api.serializers import StrictSerializer
from apps.people.vocabulary import DETAIL_NAMES
from apps.transfers.models import DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN, MIN_EXPIRES_IN, SessionStatus
from apps.webhooks.fields import NotificationUrlField


class SessionCreateSerializer(StrictSerializer):
    read_only_input = ("session_id", "session_token", "url", "status", "expires_at")

    scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=DETAIL_NAMES), allow_empty=False, max_length=len(DETAIL_NAMES)
    )
    vendor_data = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="")
    callback = NotificationUrlField(max_length=2000, required=False, allow_blank=True, default="")
    expires_in = IsoDurationField(
        minimum=MIN_EXPIRES_IN,
        maximum=MAX_EXPIRES_IN,
        required=False,
        default=DEFAULT_EXPIRES_IN,
    )


class SessionCreatedSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    session_token = serializers.CharField(help_text="Shown once. Send it as X-Session-Token.")
    url = serializers.URLField(help_text="The consent page the person opens on their phone (the QR's content).")
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    expires_at = serializers.DateTimeField()


class SessionStatusSerializer(serializers.Serializer):
    session_id = serializers.UUIDField(source="id")
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    expires_at = serializers.DateTimeField()
    replaced_by = serializers.UUIDField(source="replaced_by_id", allow_null=True)


class SessionDecisionSerializer(serializers.Serializer):
    session_id = serializers.UUIDField(source="id")
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    vendor_data = serializers.CharField()
    data = serializers.DictField(  # type: ignore[assignment]  # a declared field (DRF's metaclass moves it off the class), not the stubs' Serializer.data
        child=serializers.CharField(), allow_null=True, help_text="The shared personal details; confirmed only."
    )


class RequesterSerializer(serializers.Serializer):
    name = serializers.CharField()


class RequestedScopeSerializer(serializers.Serializer):
    name = serializers.ChoiceField(choices=DETAIL_NAMES)
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF's metaclass moves it off the class), not the stubs' Serializer.label
    value = serializers.CharField(allow_null=True, help_text="The signed-in person's value, if they have one.")


class SessionInformationSerializer(serializers.Serializer):
    session_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=SessionStatus.choices)
    expires_at = serializers.DateTimeField()
    requester = RequesterSerializer()
    scopes = RequestedScopeSerializer(many=True)
    matching_code = serializers.CharField(help_text="Also shown on the display page.")


class SessionUpdateSerializer(StrictSerializer):
    decision = serializers.ChoiceField(choices=[SessionStatus.CONFIRMED, SessionStatus.DECLINED])
    accepted_scopes = serializers.ListField(
        child=serializers.ChoiceField(choices=DETAIL_NAMES),
        required=False,
        default=list,
        help_text="Requested scopes to share; at least one (with a value) when confirming.",
    )
