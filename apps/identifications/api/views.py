from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.identifications.api.serializers import (
    MAX_EXPIRES_IN,
    IdentificationCancelSerializer,
    IdentificationCreateSerializer,
    IdentificationDeleteQuerySerializer,
    IdentificationListQuerySerializer,
    IdentificationSerializer,
)
from apps.identifications.models import OtpIdentification
from apps.identifications.selectors import identification_get, identification_list
from apps.identifications.services import (
    ActorData,
    identification_cancel,
    identification_create,
    identification_delete,
    identification_expire_if_overdue,
    identification_resend,
)
from apps.organizations.api.views import OrgAPIView
from apps.organizations.models import Scope

TAGS = ["OTP identifications"]
NO_CONTENT = {204: OpenApiResponse(description="Done; no body.")}
MESSAGE_LIMITS_429 = (
    "Rate limited: the API key's rate, or (code `too_many_messages`) the link messages to this "
    "destination: at most 5 an hour and 20 a day per phone number or email address, whatever the "
    "organization or key, and at most 3 an hour per identification. Nothing is sent (and on create "
    "nothing is created); `Retry-After` says when the window ends."
)


class IdentificationViewMixin(OrgAPIView):
    required_scope = Scope.IDENTIFICATIONS

    def get_identification(self, identification_id: UUID) -> OtpIdentification:
        identification = identification_get(organization=self.organization, identification_id=identification_id)
        if identification is None:
            raise exceptions.NotFound("No such identification in this organization.")
        return identification_expire_if_overdue(identification=identification)


class IdentificationListCreateApi(IdentificationViewMixin):
    error_descriptions = {"POST": {429: MESSAGE_LIMITS_429}}

    @extend_schema(
        tags=TAGS,
        operation_id="identifications_otp_list",
        parameters=[IdentificationListQuerySerializer],
        responses=IdentificationSerializer(many=True),
        description=(
            "The organization's OTP identifications, newest first, each as GET one shows it. "
            "`created_after` (inclusive) and `created_before` (exclusive) are ISO-8601 timestamps; "
            "a malformed one → 400 naming it. `status` filters by the status shown: an open "
            "identification past `expires_at` is EXPIRED."
        ),
    )
    def get(self, request: Request, org_id: str) -> Response:
        query = IdentificationListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        filters = {k: v for k, v in query.validated_data.items() if k in ("status", "created_after", "created_before")}
        return self.paginate(
            identification_list(organization=self.organization, **filters),
            IdentificationSerializer,
            each=lambda identification: identification_expire_if_overdue(identification=identification),
        )

    @extend_schema(
        tags=TAGS,
        operation_id="identifications_otp_create",
        request=IdentificationCreateSerializer,
        responses={201: IdentificationSerializer},
        description=(
            "Create an OTP identification and send the actor the link to `url` over the channel. "
            "409 while an identification is open (CREATED or IN_PROGRESS) for the same actor email "
            "or document number. 429 `too_many_messages` past the per-destination message limits: "
            "nothing is created."
        ),
    )
    def post(self, request: Request, org_id: str) -> Response:
        serializer = IdentificationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        identification = identification_create(
            organization=self.organization,
            actor_data=ActorData(**data["actor"]),
            channel=data["channel"]["type"],
            two_factor_type=data.get("two_factor_type") or "",
            expires_in=data.get("expires_in") or MAX_EXPIRES_IN,
            actor=self.actor,
            send_link=True,
        )
        return Response(IdentificationSerializer(identification).data, status=status.HTTP_201_CREATED)


class IdentificationDetailApi(IdentificationViewMixin):
    @extend_schema(tags=TAGS, operation_id="identifications_otp_retrieve", responses=IdentificationSerializer)
    def get(self, request: Request, org_id: str, admin_identification_id: UUID) -> Response:
        return Response(IdentificationSerializer(self.get_identification(admin_identification_id)).data)

    @extend_schema(
        tags=TAGS,
        operation_id="identifications_otp_destroy",
        parameters=[IdentificationDeleteQuerySerializer],
        responses=NO_CONTENT,
        description=(
            "204 when CREATED. In any other state 403, unless `force=true` and the key has the "
            "`identifications:force-delete` scope."
        ),
    )
    def delete(self, request: Request, org_id: str, admin_identification_id: UUID) -> Response:
        query = IdentificationDeleteQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        identification_delete(
            identification=self.get_identification(admin_identification_id),
            force=query.validated_data.get("force") == "true",
            may_force=self.api_key.has_scope(Scope.IDENTIFICATIONS_FORCE_DELETE),
            actor=self.actor,
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class IdentificationCancelApi(IdentificationViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="identifications_otp_cancel",
        request=IdentificationCancelSerializer,
        responses=NO_CONTENT,
        description="Cancel an open identification; 409 once it is final.",
    )
    def post(self, request: Request, org_id: str, admin_identification_id: UUID) -> Response:
        identification = self.get_identification(admin_identification_id)
        serializer = IdentificationCancelSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identification_cancel(
            identification=identification, reason=serializer.validated_data["reason"], actor=self.actor
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class IdentificationResendApi(IdentificationViewMixin):
    error_descriptions = {"POST": {429: MESSAGE_LIMITS_429}}

    @extend_schema(
        tags=TAGS,
        operation_id="identifications_otp_resend",
        request=None,
        responses=NO_CONTENT,
        description=(
            "Send the actor the link again; 409 unless CREATED or IN_PROGRESS; 429 `too_many_messages` "
            "past the per-destination or per-identification message limits (nothing is sent)."
        ),
    )
    def post(self, request: Request, org_id: str, admin_identification_id: UUID) -> Response:
        identification_resend(identification=self.get_identification(admin_identification_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
