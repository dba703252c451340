from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.people.vocabulary import PERSONAL_DETAILS


class PersonalDetailSpecSerializer(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()
    kind = serializers.ChoiceField(choices=["text", "email", "phone", "date", "country", "gender"])
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
