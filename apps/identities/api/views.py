from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.identities.api.serializers import (
    IdentityCreateSerializer,
    IdentityListQuerySerializer,
    IdentitySerializer,
    IdentityUpdateSerializer,
)
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.selectors import identity_get, identity_list
from apps.identities.services import identity_create, identity_resend_invitation, identity_update
from apps.organizations.api.views import OrgAPIView
from apps.organizations.models import Scope

TAGS = ["Identities"]
INVITATION_LIMITS_429 = (
    "Rate limited: the API key's rate, or (code `too_many_messages`) the messages to this email "
    "address: at most 5 an hour and 20 a day, whatever the organization or key, shared with the OTP "
    "identification links. Nothing is created, changed or sent; `Retry-After` says when the window ends."
)


class IdentityViewMixin(OrgAPIView):
    required_scope = Scope.IDENTITIES

    def get_identity(self, identity_id: UUID) -> ExternalPersonalIdentity:
        identity = identity_get(organization=self.organization, identity_id=identity_id)
        if identity is None:
            raise exceptions.NotFound("No such identity in this organization.")
        return identity


class IdentityListCreateApi(IdentityViewMixin):
    error_descriptions = {"POST": {429: INVITATION_LIMITS_429}}

    @extend_schema(
        tags=TAGS,
        operation_id="identities_list",
        parameters=[IdentityListQuerySerializer],
        responses=IdentitySerializer(many=True),
    )
    def get(self, request: Request, org_id: str) -> Response:
        query = IdentityListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.paginate(
            identity_list(organization=self.organization, state=query.validated_data.get("state")), IdentitySerializer
        )

    @extend_schema(
        tags=TAGS,
        operation_id="identities_create",
        request=IdentityCreateSerializer,
        responses={201: IdentitySerializer},
        description="Create an INVITED identity; the person is emailed an invitation link.",
    )
    def post(self, request: Request, org_id: str) -> Response:
        serializer = IdentityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = identity_create(organization=self.organization, actor=self.actor, **serializer.validated_data)
        return Response(IdentitySerializer(identity).data, status=status.HTTP_201_CREATED)


class IdentityDetailApi(IdentityViewMixin):
    error_descriptions = {"PATCH": {429: INVITATION_LIMITS_429}}

    @extend_schema(tags=TAGS, operation_id="identities_retrieve", responses=IdentitySerializer)
    def get(self, request: Request, org_id: str, identity_id: UUID) -> Response:
        return Response(IdentitySerializer(self.get_identity(identity_id)).data)

    @extend_schema(
        tags=TAGS,
        operation_id="identities_update",
        request=IdentityUpdateSerializer,
        responses=IdentitySerializer,
        description="Change names or email; change state ACTIVE ↔ DEACTIVATED. `managed` never changes.",
    )
    def patch(self, request: Request, org_id: str, identity_id: UUID) -> Response:
        identity = self.get_identity(identity_id)
        serializer = IdentityUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity = identity_update(identity=identity, data=serializer.validated_data, actor=self.actor)
        return Response(IdentitySerializer(identity).data)


class IdentityResendInvitationApi(IdentityViewMixin):
    error_descriptions = {"POST": {429: INVITATION_LIMITS_429}}

    @extend_schema(
        tags=TAGS,
        operation_id="identities_resend_invitation",
        request=None,
        responses={204: OpenApiResponse(description="A new invitation is on its way; older links stop working.")},
    )
    def post(self, request: Request, org_id: str, identity_id: UUID, **kwargs: Any) -> Response:
        identity_resend_invitation(identity=self.get_identity(identity_id), actor=self.actor)
        return Response(status=status.HTTP_204_NO_CONTENT)
