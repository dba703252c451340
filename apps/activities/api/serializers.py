from __future__ import annotations

from datetime import timedelta
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.activities.models import ActivityType, Party
from apps.api.durations import IsoDurationField
from apps.api.serializers import StrictSerializer
from apps.people.vocabulary import DETAIL_NAMES

SHOWN_STATUSES = ["SENT", "ACTION_REQUIRED", "ACCEPTED", "DECLINED", "CANCELED", "EXPIRED", "COMPLETED"]


def _unique(values: list[Any], key: Any = None) -> list[Any]:
    keys = [key(v) if key else v for v in values]
    if len(set(keys)) != len(keys):
        raise serializers.ValidationError("Each detail may appear only once.")
    return values


class RequirementSerializer(StrictSerializer):
    detail = serializers.ChoiceField(choices=DETAIL_NAMES)
    required = serializers.BooleanField(default=False)  # type: ignore[assignment]  # a declared field (DRF's metaclass moves it off the class), not the stubs' Serializer.required


class AuthorizationSerializer(StrictSerializer):
    description = serializers.CharField(max_length=2000)
    requires_bioface = serializers.BooleanField(default=False)


class ActivityCreateSerializer(StrictSerializer):
    read_only_input = ("id", "status", "valid_until", "sharing_until", "created_at", "updated_at")

    type = serializers.ChoiceField(choices=ActivityType.choices)
    initiator_id = serializers.UUIDField()
    receptor_id = serializers.UUIDField()
    requirements = RequirementSerializer(many=True, required=False)
    valid_for = IsoDurationField(minimum=timedelta(seconds=1), maximum=timedelta(days=90), required=False)
    purpose = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    offered_details = serializers.ListField(child=serializers.ChoiceField(choices=DETAIL_NAMES), required=False)
    sharing_period = IsoDurationField(minimum=timedelta(seconds=1), maximum=timedelta(days=3650), required=False)
    authorization = AuthorizationSerializer(required=False)

    def validate_requirements(self, value: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return _unique(value, key=lambda r: r["detail"])

    def validate_offered_details(self, value: list[str]) -> list[str]:
        return _unique(value)


class ActivityAcceptSerializer(StrictSerializer):
    accepted_details = serializers.ListField(
        child=serializers.ChoiceField(choices=DETAIL_NAMES),
        required=False,
        help_text="Defaults to every requested detail.",
    )
    sharing_period = IsoDurationField(minimum=timedelta(seconds=1), maximum=timedelta(days=3650), required=False)

    def validate_accepted_details(self, value: list[str]) -> list[str]:
        return _unique(value)


class _AsFieldSerializer(StrictSerializer):
    # `as` is a Python keyword: the field is declared as `as_`, and read, validated, reported in
    # errors and documented as `as`.
    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["as"] = fields.pop("as_")
        return fields


class PartyQuerySerializer(_AsFieldSerializer):
    as_ = serializers.ChoiceField(choices=Party.choices, required=False, default=Party.INITIATOR)


class ActivityCompleteSerializer(_AsFieldSerializer):
    """The party that finalizes (`as`); when both have, the activity is COMPLETED."""

    as_ = serializers.ChoiceField(choices=Party.choices)


class ActivityListQuerySerializer(PartyQuerySerializer):
    status = serializers.ChoiceField(choices=SHOWN_STATUSES, required=False)
    type = serializers.ChoiceField(choices=ActivityType.choices, required=False)
    party_id = serializers.UUIDField(required=False, help_text="Only activities where this identity takes part.")
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)


class ActivitySerializer(serializers.Serializer):
    """The activity as one party sees it (`status` SENT / ACTION_REQUIRED while pending)."""

    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=ActivityType.choices)
    status = serializers.SerializerMethodField()
    initiator_id = serializers.UUIDField()
    receptor_id = serializers.UUIDField()
    requirements = RequirementSerializer(many=True)
    offered_details = serializers.ListField(child=serializers.CharField())
    accepted_details = serializers.ListField(child=serializers.CharField())
    purpose = serializers.CharField()
    authorization = AuthorizationSerializer(allow_null=True)
    valid_until = serializers.DateTimeField()
    sharing_until = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(serializers.ChoiceField(choices=SHOWN_STATUSES))
    def get_status(self, activity: Any) -> str:
        return activity.status_for(self.context.get("party", Party.INITIATOR))


class ActivityDetailsSerializer(serializers.Serializer):
    activity_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=SHOWN_STATUSES)
    sharing_until = serializers.DateTimeField(allow_null=True)
    received = serializers.DictField(child=serializers.CharField())
    given = serializers.DictField(child=serializers.CharField())


# --- The person's own view, for their app (/api/v1/me/activities) -------------------------------


class NameSerializer(serializers.Serializer):
    name = serializers.CharField()


class PersonActivitySerializer(serializers.Serializer):
    """An activity as the signed-in person sees it on their page: through their own identity's
    party (`status` ACTION_REQUIRED when it waits for their answer, SENT when they asked)."""

    id = serializers.UUIDField(source="activity.id")
    type = serializers.ChoiceField(choices=ActivityType.choices, source="activity.type")
    status = serializers.ChoiceField(choices=SHOWN_STATUSES)
    party = serializers.ChoiceField(choices=Party.choices, help_text="The person's side of the activity.")
    organization = NameSerializer(source="activity.organization")
    counterpart = serializers.SerializerMethodField(help_text="The other party, by name.")
    purpose = serializers.CharField(source="activity.purpose")
    requirements = RequirementSerializer(many=True, source="activity.requirements")
    offered_details = serializers.ListField(child=serializers.CharField(), source="activity.offered_details")
    accepted_details = serializers.ListField(child=serializers.CharField(), source="activity.accepted_details")
    authorization = AuthorizationSerializer(allow_null=True, source="activity.authorization")
    valid_until = serializers.DateTimeField(source="activity.valid_until")
    sharing_until = serializers.DateTimeField(allow_null=True, source="activity.sharing_until")
    created_at = serializers.DateTimeField(source="activity.created_at")
    updated_at = serializers.DateTimeField(source="activity.updated_at")

    @extend_schema_field(NameSerializer)
    def get_counterpart(self, mine: Any) -> dict[str, str]:
        return {"name": mine.counterpart_name}


class PersonActivityListQuerySerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=SHOWN_STATUSES, required=False)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)
