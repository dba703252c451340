from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.organizations.api.views import OrgAPIView
from apps.organizations.models import Scope
from apps.webhooks.api.serializers import (
    DeliveryListQuerySerializer,
    DeliverySerializer,
    NotificationSecretSerializer,
    PageQuerySerializer,
    WebhookCreateSerializer,
    WebhookSerializer,
    WebhookWithSecretSerializer,
)
from apps.webhooks.endpoints import (
    endpoint_create,
    endpoint_delete,
    endpoint_ping,
    endpoint_rotate_secret,
    notification_secret_rotate,
)
from apps.webhooks.models import WebhookEndpoint
from apps.webhooks.relay import delivery_redeliver
from apps.webhooks.selectors import delivery_get, delivery_list, endpoint_get, endpoint_list

TAGS = ["Webhooks"]


class WebhookViewMixin(OrgAPIView):
    required_scope = Scope.WEBHOOKS

    def get_endpoint(self, webhook_id: UUID) -> WebhookEndpoint:
        endpoint = endpoint_get(organization=self.organization, endpoint_id=webhook_id)
        if endpoint is None:
            raise exceptions.NotFound("No such webhook in this organization.")
        return endpoint


class WebhookListCreateApi(WebhookViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_list",
        parameters=[PageQuerySerializer],
        responses=WebhookSerializer(many=True),
    )
    def get(self, request: Request, org_id: str) -> Response:
        PageQuerySerializer(data=request.query_params).is_valid(raise_exception=True)
        return self.paginate(endpoint_list(organization=self.organization), WebhookSerializer)

    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_create",
        request=WebhookCreateSerializer,
        responses={201: WebhookWithSecretSerializer},
        description="Register an endpoint. The response carries its signing secret, shown only once.",
    )
    def post(self, request: Request, org_id: str) -> Response:
        serializer = WebhookCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        endpoint, secret = endpoint_create(organization=self.organization, **serializer.validated_data)
        return Response({**WebhookSerializer(endpoint).data, "secret": secret}, status=status.HTTP_201_CREATED)


class WebhookDetailApi(WebhookViewMixin):
    @extend_schema(tags=TAGS, operation_id="webhooks_retrieve", responses=WebhookSerializer)
    def get(self, request: Request, org_id: str, webhook_id: UUID) -> Response:
        return Response(WebhookSerializer(self.get_endpoint(webhook_id)).data)

    @extend_schema(tags=TAGS, operation_id="webhooks_delete", responses={204: OpenApiResponse(description="Deleted.")})
    def delete(self, request: Request, org_id: str, webhook_id: UUID) -> Response:
        endpoint_delete(endpoint=self.get_endpoint(webhook_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookRotateSecretApi(WebhookViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_rotate_secret",
        request=None,
        responses=WebhookWithSecretSerializer,
        description="A new secret, shown once. For 24 hours both the old and the new secret sign every message.",
    )
    def post(self, request: Request, org_id: str, webhook_id: UUID) -> Response:
        endpoint, secret = endpoint_rotate_secret(endpoint=self.get_endpoint(webhook_id))
        return Response({**WebhookSerializer(endpoint).data, "secret": secret})


class WebhookPingApi(WebhookViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_ping",
        request=None,
        responses={202: DeliverySerializer},
        description="Send a webhook.ping event to this endpoint; it is delivered like any event.",
    )
    def post(self, request: Request, org_id: str, webhook_id: UUID) -> Response:
        delivery = endpoint_ping(endpoint=self.get_endpoint(webhook_id))
        return Response(
            DeliverySerializer(delivery_get(endpoint=delivery.endpoint, delivery_id=delivery.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class WebhookDeliveriesApi(WebhookViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_deliveries_list",
        parameters=[DeliveryListQuerySerializer],
        responses=DeliverySerializer(many=True),
    )
    def get(self, request: Request, org_id: str, webhook_id: UUID) -> Response:
        endpoint = self.get_endpoint(webhook_id)
        query = DeliveryListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return self.paginate(
            delivery_list(endpoint=endpoint, status=query.validated_data.get("status")), DeliverySerializer
        )


class WebhookRedeliverApi(WebhookViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="webhooks_deliveries_redeliver",
        request=None,
        responses={202: DeliverySerializer},
        description="Send the delivery's event again (same webhook-id) as a new delivery.",
    )
    def post(self, request: Request, org_id: str, webhook_id: UUID, delivery_id: UUID) -> Response:
        endpoint = self.get_endpoint(webhook_id)
        delivery = delivery_get(endpoint=endpoint, delivery_id=delivery_id)
        if delivery is None:
            raise exceptions.NotFound("No such delivery for this webhook.")
        again = delivery_redeliver(delivery=delivery)
        return Response(
            DeliverySerializer(delivery_get(endpoint=endpoint, delivery_id=again.pk)).data,
            status=status.HTTP_202_ACCEPTED,
        )


class NotificationSecretRotateApi(WebhookViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="notification_secret_rotate",
        request=None,
        responses=NotificationSecretSerializer,
        description=(
            "A new secret for per-object notifications (a process's notificationUrl, a session's callback), "
            "which are signed per Standard Webhooks like webhooks. Shown once; the previous secret keeps "
            "signing for 24 hours."
        ),
    )
    def post(self, request: Request, org_id: str) -> Response:
        holder, secret = notification_secret_rotate(organization=self.organization)
        return Response(
            NotificationSecretSerializer(
                {"secret": secret, "previous_secret_expires_at": holder.previous_secret_expires_at}
            ).data
        )
