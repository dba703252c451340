from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.errors import Gone
from apps.audit import reasons
from apps.audit.services import Actor
from apps.identities.selectors import identity_get
from apps.organizations.api.views import OrgAPIView
from apps.organizations.models import Organization, Scope
from apps.verifications.api.serializers import (
    ConnectionListQuerySerializer,
    ConnectSettingsSerializer,
    OnfidoSettingsSerializer,
    ProcessCreateSerializer,
    ProcessListQuerySerializer,
    ProcessSerializer,
    ProviderCallbackResponseSerializer,
    ProviderCallbackSerializer,
    ProviderConnectionSerializer,
    ProviderWebhookResponseSerializer,
)
from apps.verifications.connectors.base import WebhookRejected
from apps.verifications.handoff import (
    connectable,
    connection_delete,
    connection_get,
    connection_list,
    connection_put,
    process_start_at_provider,
    provider_webhook_receive,
)
from apps.verifications.models import VerificationProcess
from apps.verifications.providers import PROVIDERS
from apps.verifications.selectors import process_activity_get, process_get, process_list
from apps.verifications.services import (
    ResultRedacted,
    process_apply_provider_result,
    process_cancel,
    process_create,
    process_fail_if_overdue,
    process_fullresult_zip,
)
from apps.verifications.tasks import collect_provider_result

TAGS = ["Verification processes"]


class ProcessViewMixin(OrgAPIView):
    required_scope = Scope.PROCESSES

    def get_process(self, process_id: UUID) -> VerificationProcess:
        process = process_get(organization=self.organization, process_id=process_id)
        if process is None:
            raise exceptions.NotFound("No such process in this organization.")
        return process_fail_if_overdue(process=process)


class ProcessListCreateApi(ProcessViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="processes_list",
        parameters=[ProcessListQuerySerializer],
        responses=ProcessSerializer(many=True),
    )
    def get(self, request: Request, org_id: str) -> Response:
        query = ProcessListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.paginate(
            process_list(
                organization=self.organization,
                **{k: v for k, v in query.validated_data.items() if k in ("status", "provider")},
            ),
            ProcessSerializer,
        )

    @extend_schema(
        tags=TAGS,
        operation_id="processes_create",
        request=ProcessCreateSerializer,
        responses={201: ProcessSerializer},
        description=(
            "Start a verification process; send the person to `url`. 400 (field `provider`) for `sandbox` where "
            "the sandbox is not enabled (SANDBOX_ENABLED; never in production), and for `connect` where its "
            "userInfo JWTs could not be verified (production without PROVIDER_JWKS for connect). A sandbox "
            "result is test data: it never becomes a person's verified details."
        ),
    )
    def post(self, request: Request, org_id: str) -> Response:
        serializer = ProcessCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        identity = None
        if data.get("identity_id"):
            identity = identity_get(organization=self.organization, identity_id=data["identity_id"])
            if identity is None:
                raise exceptions.ValidationError({"identityId": ["No such identity in this organization."]})
        activity = None
        if data.get("activity_id"):
            activity = process_activity_get(organization=self.organization, activity_id=data["activity_id"])
            if activity is None:
                raise exceptions.ValidationError({"activityId": ["No such activity in this organization."]})
        process = process_create(
            organization=self.organization,
            activity=activity,
            provider=data["provider"],
            process_type=data.get("process_type"),
            notification_url=data.get("notification_url", ""),
            redirect_url=data.get("redirect_url", ""),
            identity=identity,
            actor=self.actor,
        )
        # A provider the organization connected: the process starts there (its url is the provider's).
        process = process_start_at_provider(process=process)
        return Response(ProcessSerializer(process).data, status=status.HTTP_201_CREATED)


class ProcessDetailApi(ProcessViewMixin):
    @extend_schema(tags=TAGS, operation_id="processes_retrieve", responses=ProcessSerializer)
    def get(self, request: Request, org_id: str, process_id: UUID) -> Response:
        return Response(ProcessSerializer(self.get_process(process_id)).data)


class ProcessCancelApi(ProcessViewMixin):
    @extend_schema(tags=TAGS, operation_id="processes_cancel", request=None, responses=ProcessSerializer)
    def post(self, request: Request, org_id: str, process_id: UUID) -> Response:
        process = process_cancel(
            process=self.get_process(process_id), actor=self.actor, reason=reasons.CANCELED_BY_ORGANIZATION
        )
        return Response(ProcessSerializer(process).data)


class ProcessFullResultApi(ProcessViewMixin):
    extra_error_codes = (409, 410)

    @extend_schema(
        tags=TAGS,
        operation_id="processes_fullresult",
        responses={
            (200, "application/zip"): OpenApiResponse(
                OpenApiTypes.BINARY,
                description=(
                    "process.json (Get process) and provider-result.json (the provider's raw result as received: "
                    "the callbacks' rawResult, else the final callback as received)"
                ),
            )
        },
        description="409 until the process is final; 410 once its personal data was redacted.",
    )
    def get(self, request: Request, org_id: str, process_id: UUID) -> HttpResponse:
        process = self.get_process(process_id)
        try:
            archive = process_fullresult_zip(process=process, process_json=ProcessSerializer(process).data)
        except ResultRedacted as exc:
            raise Gone(str(exc)) from None
        response = HttpResponse(archive, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="process-{process.pk}.zip"'
        return response


class ProviderCallbackApi(APIView):
    """Results from providers, signed with X-Provider-Signature: sha256=<hex HMAC of the raw body>."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []
    extra_error_codes = (401, 409)

    def _check_signature(self, request: Request, provider: str) -> None:
        secret = settings.PROVIDER_SECRETS.get(provider)
        header = request.headers.get("X-Provider-Signature", "")
        if not secret or not header.startswith("sha256="):
            raise exceptions.AuthenticationFailed("Missing or invalid X-Provider-Signature.", code="invalid_signature")
        expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, header.removeprefix("sha256=")):
            raise exceptions.AuthenticationFailed("Missing or invalid X-Provider-Signature.", code="invalid_signature")

    def get_authenticate_header(self, request: Request) -> str:
        return 'HMAC-SHA256 header="X-Provider-Signature"'

    @extend_schema(
        tags=["Provider callbacks"],
        operation_id="providers_callback",
        auth=[],
        parameters=[
            OpenApiParameter(
                "X-Provider-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="sha256=<hex HMAC-SHA256 of the raw body, keyed with the provider's secret>",
            ),
        ],
        request=ProviderCallbackSerializer,
        responses={200: ProviderCallbackResponseSerializer},
        description=(
            "`started` moves pending → processing (later `started` callbacks only add data); `finished` runs the "
            "provider's mapping rules on the merged providerSpecific; `canceled` and `failed` end the process. "
            "Every callback's providerSpecific is merged into the process at once. The sandbox's callbacks exist "
            "only where the sandbox is enabled."
        ),
    )
    def post(self, request: Request, provider: str) -> Response:
        if provider not in (*PROVIDERS, "sandbox") or (provider == "sandbox" and not settings.SANDBOX_ENABLED):
            raise exceptions.NotFound("Unknown provider.")
        self._check_signature(request, provider)
        serializer = ProviderCallbackSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        process = VerificationProcess.objects.filter(pk=data["processId"]).first()
        if process is None or (process.provider.split(":", 1)[0] != provider):
            raise exceptions.NotFound("No such process for this provider.")
        process = process_apply_provider_result(
            process=process,
            event=data["event"],
            provider_specific=data.get("providerSpecific"),
            fail_reason=data.get("failReason"),
            raw_result=data.get("rawResult"),
            actor=Actor.provider(provider),
        )
        return Response({"processId": str(process.pk), "status": process.status})


CONNECTION_TAGS = ["Provider connections"]
SETTINGS_SCHEMA = PolymorphicProxySerializer(
    component_name="ProviderSettings",
    serializers={"onfido": OnfidoSettingsSerializer, "connect": ConnectSettingsSerializer},
    resource_type_field_name=None,
)


class ProviderConnectionViewMixin(OrgAPIView):
    required_scope = Scope.PROCESSES

    def known_provider(self, provider: str) -> str:
        if not connectable(provider):
            raise exceptions.NotFound("No such provider to connect (onfido or connect).")
        return provider


class ProviderConnectionListApi(ProviderConnectionViewMixin):
    @extend_schema(
        tags=CONNECTION_TAGS,
        operation_id="provider_connections_list",
        parameters=[ConnectionListQuerySerializer],
        responses=ProviderConnectionSerializer(many=True),
        description="Which providers this organization has connected (never their settings).",
    )
    def get(self, request: Request, org_id: str) -> Response:
        ConnectionListQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        return self.paginate(connection_list(organization=self.organization), ProviderConnectionSerializer)


class ProviderConnectionApi(ProviderConnectionViewMixin):
    @extend_schema(
        tags=CONNECTION_TAGS, operation_id="provider_connections_retrieve", responses=ProviderConnectionSerializer
    )
    def get(self, request: Request, org_id: str, provider: str) -> Response:
        connection = connection_get(organization=self.organization, provider=self.known_provider(provider))
        if connection is None:
            raise exceptions.NotFound("This provider is not connected.")
        return Response(ProviderConnectionSerializer(connection).data)

    @extend_schema(
        tags=CONNECTION_TAGS,
        operation_id="provider_connections_put",
        request=SETTINGS_SCHEMA,
        responses={200: ProviderConnectionSerializer, 201: ProviderConnectionSerializer},
        description=(
            "Connect the organization's own account at `provider` (onfido or connect), or replace its settings "
            "(201 when new, 200 when replaced). The settings are stored encrypted and never returned. From then on "
            "the provider's new processes start there."
        ),
    )
    def put(self, request: Request, org_id: str, provider: str) -> Response:
        self.known_provider(provider)
        if not isinstance(request.data, dict):
            raise exceptions.ValidationError({"settings": ["An object with the provider's settings."]})
        connection, created = connection_put(
            organization=self.organization, provider=provider, settings=dict(request.data), actor=self.actor
        )
        return Response(
            ProviderConnectionSerializer(connection).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        tags=CONNECTION_TAGS,
        operation_id="provider_connections_delete",
        responses={204: OpenApiResponse(description="Disconnected.")},
        description="Disconnect: the provider's new processes use the signed-callback integration again.",
    )
    def delete(self, request: Request, org_id: str, provider: str) -> Response:
        if not connection_delete(
            organization=self.organization, provider=self.known_provider(provider), actor=self.actor
        ):
            raise exceptions.NotFound("This provider is not connected.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class ProviderWebhookApi(APIView):
    """A connected provider's own webhook (Onfido: X-SHA2-Signature, the hex HMAC-SHA256 of the
    raw body keyed with the organization's webhook_token)."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []
    extra_error_codes = (401,)

    def get_authenticate_header(self, request: Request) -> str:
        return 'HMAC-SHA256 header="X-SHA2-Signature"'

    @extend_schema(
        tags=["Provider callbacks"],
        operation_id="providers_webhook",
        auth=[],
        parameters=[
            OpenApiParameter(
                "X-SHA2-Signature",
                str,
                OpenApiParameter.HEADER,
                required=True,
                description="Hex HMAC-SHA256 of the raw body, keyed with the organization's webhook_token.",
            ),
        ],
        request=OpenApiTypes.OBJECT,
        responses={200: ProviderWebhookResponseSerializer},
        description=(
            "Onfido's webhook for one organization. `workflow_run.completed` makes the portal read the run, its "
            "document and facial-similarity reports back (retried with backoff) and finish the process; other "
            "events are acknowledged. A bad signature is 401 and changes nothing."
        ),
    )
    def post(self, request: Request, provider: str, org_id: str) -> Response:
        organization = Organization.objects.filter(slug=org_id).first()
        if organization is None or provider != "onfido":
            raise exceptions.NotFound("No such provider connection.")
        try:
            run = provider_webhook_receive(
                provider=provider, organization=organization, body=request.body, headers=request.headers
            )
        except WebhookRejected as exc:
            raise exceptions.AuthenticationFailed(str(exc), code="invalid_signature") from None
        except LookupError:
            raise exceptions.NotFound("No such provider connection or run.") from None
        if run is None:
            return Response({"received": True})
        collect_provider_result.delay(str(run.process_id))
        process = VerificationProcess.objects.get(pk=run.process_id)
        return Response({"received": True, "processId": str(process.pk), "status": process.status})
