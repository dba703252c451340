from __future__ import annotations

from typing import TypedDict

from rest_framework import serializers

from apps.api.serializers import StrictSerializer
from apps.identities.models import IdentityState


class _NameOptions(TypedDict):
    max_length: int
    allow_blank: bool
    trim_whitespace: bool


_NAME: _NameOptions = {"max_length": 150, "allow_blank": False, "trim_whitespace": True}


class IdentitySerializer(serializers.Serializer):
    id = serializers.UUIDField(read_only=True)
    emailAddress = serializers.EmailField(source="email_address", read_only=True)
    firstName = serializers.CharField(source="first_name", read_only=True)
    lastName = serializers.CharField(source="last_name", read_only=True)
    managed = serializers.BooleanField(read_only=True)
    state = serializers.ChoiceField(choices=IdentityState.choices, read_only=True)
    createdAt = serializers.DateTimeField(source="created_at", read_only=True)
    updatedAt = serializers.DateTimeField(source="updated_at", read_only=True)


class IdentityCreateSerializer(StrictSerializer):
    read_only_input = ("id", "state", "createdAt", "updatedAt")

    emailAddress = serializers.EmailField(source="email_address", max_length=254)
    firstName = serializers.CharField(source="first_name", **_NAME)
    lastName = serializers.CharField(source="last_name", **_NAME)
    managed = serializers.BooleanField(help_text="Cannot be changed after creation.")


class IdentityUpdateSerializer(StrictSerializer):
    read_only_input = ("id", "createdAt", "updatedAt")

    emailAddress = serializers.EmailField(source="email_address", max_length=254, required=False)
    firstName = serializers.CharField(source="first_name", required=False, **_NAME)
    lastName = serializers.CharField(source="last_name", required=False, **_NAME)
    state = serializers.ChoiceField(
        choices=IdentityState.choices,
        required=False,
        help_text="Only ACTIVE → DEACTIVATED or DEACTIVATED → ACTIVE; other changes answer 409.",
    )
    managed = serializers.BooleanField(required=False, help_text="Cannot change: a different value answers 400.")


class IdentityListQuerySerializer(StrictSerializer):
    state = serializers.ChoiceField(choices=IdentityState.choices, required=False)
    cursor = serializers.CharField(required=False)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=100)
