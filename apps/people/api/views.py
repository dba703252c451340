from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.oauth.api import PersonAppAPIView
from apps.oauth.schema import app_auth
from apps.oauth.scopes import DETAILS
from apps.people.models import DetailSource
from apps.people.selectors import person_details
from apps.people.vocabulary import DETAIL_KINDS, DETAILS_BY_NAME, PERSONAL_DETAILS


class PersonalDetailSpecSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF's metaclass moves it off the class), not the stubs' Serializer.label
    kind = serializers.ChoiceField(choices=DETAIL_KINDS)
    description = serializers.CharField()


class PersonalDetailsResponseSerializer(serializers.Serializer):
    results = PersonalDetailSpecSerializer(many=True)


class PersonalDetailsApi(APIView):
    """The vocabulary of personal detail names used in requirements, scopes and consents."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []

    @extend_schema(
        tags=["Reference"], operation_id="personal_details_list", responses=PersonalDetailsResponseSerializer, auth=[]
    )
    def get(self, request: Request) -> Response:
        return Response({"results": PersonalDetailSpecSerializer(PERSONAL_DETAILS, many=True).data})


class PersonDetailSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a declared field (DRF's metaclass moves it off the class), not the stubs' Serializer.label
    value = serializers.CharField()
    source = serializers.ChoiceField(choices=DetailSource.choices)  # type: ignore[assignment]  # a declared field (DRF's metaclass moves it off the class), not the stubs' Serializer.source
    verified_by_provider = serializers.CharField(allow_blank=True)
    verified_by_process_id = serializers.UUIDField(allow_null=True)
    updated_at = serializers.DateTimeField()


class PersonDetailsResponseSerializer(serializers.Serializer):
    results = PersonDetailSerializer(many=True)


class PersonDetailsApi(PersonAppAPIView):
    """The person's own details with their provenance, as their page shows them (scope
    `details`). Every detail at once, in the vocabulary's order (at most one per name)."""

    required_app_scope = DETAILS

    @extend_schema(
        tags=["People's apps"],
        auth=app_auth(DETAILS),
        operation_id="me_details",
        responses=PersonDetailsResponseSerializer,
    )
    def get(self, request: Request) -> Response:
        details = [
            {
                "name": detail.name,
                "label": DETAILS_BY_NAME[detail.name].label if detail.name in DETAILS_BY_NAME else detail.name,
                "value": detail.value,
                "source": detail.source,
                "verified_by_provider": detail.verified_by_provider,
                "verified_by_process_id": detail.verified_by_process_id,
                "updated_at": detail.updated_at,
            }
            for detail in person_details(person=self.person)
        ]
        return Response({"results": PersonDetailSerializer(details, many=True).data})
