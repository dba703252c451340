from __future__ import annotations

from typing import Any
from uuid import UUID

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.activities.api.serializers import (
    ActivityAcceptSerializer,
    ActivityCompleteSerializer,
    ActivityCreateSerializer,
    ActivityDetailsSerializer,
    ActivityListQuerySerializer,
    ActivitySerializer,
    PartyQuerySerializer,
)
from apps.activities.models import Activity, Party
from apps.activities.selectors import DetailsGone, activity_details, activity_get, activity_list
from apps.activities.services import (
    NotManaged,
    activity_accept,
    activity_complete,
    activity_create,
    activity_decline,
    activity_withdraw,
)
from apps.api.errors import Gone
from apps.organizations.api.views import OrgAPIView
from apps.organizations.models import Scope

TAGS = ["Activities"]
AS_PARAMETER = OpenApiParameter(
    "as", str, enum=[p.value for p in Party], description="The party whose view to show (default initiator)."
)


class ActivityViewMixin(OrgAPIView):
    required_scope = Scope.ACTIVITIES

    def get_activity(self, activity_id: UUID, *, parties: bool = True) -> Activity:
        activity = activity_get(organization=self.organization, activity_id=activity_id, parties=parties)
        if activity is None:
            raise exceptions.NotFound("No such activity in this organization.")
        return activity

    def act_for(self, activity: Activity, party: str) -> None:
        """The API answers for a party only when that identity is managed (seed 002)."""
        if not activity.identity_of(party).managed:
            raise exceptions.PermissionDenied(
                f"The {party} identity is not managed: the person answers on their own consent page.",
                code="not_managed",
            )

    def party(self, request: Request) -> str:
        query = PartyQuerySerializer(data={"as": request.query_params.get("as", Party.INITIATOR)})
        query.is_valid(raise_exception=True)
        return query.validated_data["as"]

    def respond(self, activity: Activity, party: str, code: int = status.HTTP_200_OK) -> Response:
        return Response(ActivitySerializer(activity, context={"party": party}).data, status=code)


class ActivityListCreateApi(ActivityViewMixin):
    error_descriptions = {
        "POST": {
            403: (
                "The API key lacks the `activities` scope, or (code `not_managed`) a share (AT_002) or swap "
                "(AT_003) names an initiator that is not `managed`: only the person shares their own details, "
                "from their page. Nothing is created or shared."
            ),
        }
    }

    @extend_schema(
        tags=TAGS,
        operation_id="activities_list",
        parameters=[ActivityListQuerySerializer, AS_PARAMETER],
        responses=ActivitySerializer(many=True),
    )
    def get(self, request: Request, org_id: str) -> Response:
        params = dict(request.query_params.items())
        query = ActivityListQuerySerializer(data=params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        party = data["as"]
        qs = activity_list(
            organization=self.organization,
            status=data.get("status"),
            type=data.get("type"),
            party_id=data.get("party_id"),
            party=party if "as" in params else None,
        )
        shown_to = {"SENT": Party.INITIATOR, "ACTION_REQUIRED": Party.RECEPTOR}.get(data.get("status", ""))
        if shown_to and "as" not in params:
            party = shown_to  # the pending status names the side whose view is asked for
        elif shown_to and shown_to != party:
            qs = qs.none()  # the initiator never sees ACTION_REQUIRED, nor the receptor SENT
        return self.paginate(qs, ActivitySerializer, context={"party": party})

    @extend_schema(
        tags=TAGS,
        operation_id="activities_create",
        request=ActivityCreateSerializer,
        responses={201: ActivitySerializer},
        description=(
            "Create an activity between two ACTIVE identities; returned as the initiator sees it. "
            "A share (AT_002) or swap (AT_003) gives the initiator's details, so its initiator must be "
            "`managed` (403 `not_managed` otherwise)."
        ),
    )
    def post(self, request: Request, org_id: str) -> Response:
        serializer = ActivityCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if "requirements" in data:
            data["requirements"] = [dict(r) for r in data["requirements"]]
        if "authorization" in data:
            data["authorization"] = dict(data["authorization"])
        try:
            activity = activity_create(organization=self.organization, actor=self.actor, **data)
        except NotManaged as exc:
            raise exceptions.PermissionDenied(str(exc), code=NotManaged.code) from None
        return self.respond(activity, Party.INITIATOR, status.HTTP_201_CREATED)


class ActivityDetailApi(ActivityViewMixin):
    @extend_schema(
        tags=TAGS, operation_id="activities_retrieve", parameters=[AS_PARAMETER], responses=ActivitySerializer
    )
    def get(self, request: Request, org_id: str, activity_id: UUID) -> Response:
        return self.respond(self.get_activity(activity_id, parties=False), self.party(request))


class ActivityAcceptApi(ActivityViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="activities_accept",
        request=ActivityAcceptSerializer,
        responses=ActivitySerializer,
        description="The receptor accepts (managed receptors only). Required details must be included.",
    )
    def post(self, request: Request, org_id: str, activity_id: UUID) -> Response:
        activity = self.get_activity(activity_id)
        self.act_for(activity, Party.RECEPTOR)
        serializer = ActivityAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activity = activity_accept(activity=activity, actor=self.actor, **serializer.validated_data)
        return self.respond(activity, Party.RECEPTOR)


class ActivityDeclineApi(ActivityViewMixin):
    @extend_schema(tags=TAGS, operation_id="activities_decline", request=None, responses=ActivitySerializer)
    def post(self, request: Request, org_id: str, activity_id: UUID) -> Response:
        activity = self.get_activity(activity_id)
        self.act_for(activity, Party.RECEPTOR)
        return self.respond(activity_decline(activity=activity, actor=self.actor), Party.RECEPTOR)


class ActivityWithdrawApi(ActivityViewMixin):
    @extend_schema(tags=TAGS, operation_id="activities_withdraw", request=None, responses=ActivitySerializer)
    def post(self, request: Request, org_id: str, activity_id: UUID) -> Response:
        activity = self.get_activity(activity_id)
        self.act_for(activity, Party.INITIATOR)
        return self.respond(activity_withdraw(activity=activity, actor=self.actor), Party.INITIATOR)


class ActivityCompleteApi(ActivityViewMixin):
    @extend_schema(
        tags=TAGS,
        operation_id="activities_complete",
        request=ActivityCompleteSerializer,
        responses=ActivitySerializer,
        description="One party finalizes (`as`); when both have, the activity is COMPLETED.",
    )
    def post(self, request: Request, org_id: str, activity_id: UUID) -> Response:
        activity = self.get_activity(activity_id)
        serializer = ActivityCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        party = serializer.validated_data["as"]
        self.act_for(activity, party)
        return self.respond(activity_complete(activity=activity, party=party, actor=self.actor), party)


class ActivityDetailsApi(ActivityViewMixin):
    extra_error_codes = (409, 410)

    @extend_schema(
        tags=TAGS,
        operation_id="activities_details",
        parameters=[AS_PARAMETER],
        responses=ActivityDetailsSerializer,
        description="What the party received and gave, while shared. 409 before acceptance, 410 after expiry.",
    )
    def get(self, request: Request, org_id: str, activity_id: UUID, **kwargs: Any) -> Response:
        activity = self.get_activity(activity_id)
        party = self.party(request)
        self.act_for(activity, party)
        try:
            details = activity_details(activity=activity, party=party)
        except DetailsGone as exc:
            raise Gone(str(exc)) from None
        details["status"] = activity.status_for(party)
        return Response(ActivityDetailsSerializer(details).data)
