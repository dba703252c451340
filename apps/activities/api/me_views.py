"""The person's activities for their own app (API.md "People's apps"): `/api/v1/me/activities`
and `/api/v1/me/sharings/{id}/revoke`, authenticated by the app's access token (scope `inbox`).

The same selectors and services as the consent pages under /me/, with the person as the actor:
the same rules, audit rows, receipts and `activity.status_changed` events. An activity of
someone else is a 404, never a hint that it exists."""

from __future__ import annotations

from uuid import UUID

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions
from rest_framework.request import Request
from rest_framework.response import Response

from apps.activities.api.serializers import (
    ActivityAcceptSerializer,
    PersonActivityListQuerySerializer,
    PersonActivitySerializer,
)
from apps.activities.models import Party
from apps.activities.selectors import (
    PersonActivity,
    person_activity_as,
    person_activity_get,
    person_activity_list,
)
from apps.activities.services import activity_accept, activity_decline, activity_revoke
from apps.api.pagination import CursorPagination
from apps.oauth.api import PersonAppAPIView
from apps.oauth.schema import app_auth
from apps.oauth.scopes import INBOX

TAGS = ["People's apps"]
AUTH = app_auth(INBOX)


class PersonActivityApiMixin(PersonAppAPIView):
    required_app_scope = INBOX

    def mine(self, activity_id: UUID, *, receptor_only: bool = False) -> PersonActivity:
        mine = person_activity_get(person=self.person, activity_id=activity_id)
        if mine is None:
            raise exceptions.NotFound("No such activity among yours.")
        if receptor_only and mine.party != Party.RECEPTOR:
            raise exceptions.PermissionDenied(
                "Only the person asked answers: you started this activity.", code="not_receptor"
            )
        return mine

    def respond(self, activity_id: UUID) -> Response:
        # Read again through the person's view: the service returns the bare locked row.
        return Response(PersonActivitySerializer(self.mine(activity_id)).data)


class PersonActivityListApi(PersonActivityApiMixin):
    @extend_schema(
        tags=TAGS,
        auth=AUTH,
        operation_id="me_activities_list",
        parameters=[PersonActivityListQuerySerializer],
        responses=PersonActivitySerializer(many=True),
        description=(
            "Every activity where one of the person's identities is a party, newest first, as their page "
            "shows it. `?status=ACTION_REQUIRED` lists what waits for their answer."
        ),
    )
    def get(self, request: Request) -> Response:
        query = PersonActivityListQuerySerializer(data=dict(request.query_params.items()))
        query.is_valid(raise_exception=True)
        qs = person_activity_list(person=self.person, status=query.validated_data.get("status"))
        paginator = CursorPagination()
        page = paginator.paginate_queryset(qs, request, view=self)
        mine = [person_activity_as(person=self.person, activity=activity) for activity in page]
        return paginator.get_paginated_response(PersonActivitySerializer(mine, many=True).data)


class PersonActivityDetailApi(PersonActivityApiMixin):
    @extend_schema(
        tags=TAGS,
        auth=AUTH,
        operation_id="me_activities_retrieve",
        responses=PersonActivitySerializer,
        description="One of the person's activities as their page shows it; anyone else's → 404.",
    )
    def get(self, request: Request, activity_id: UUID) -> Response:
        return Response(PersonActivitySerializer(self.mine(activity_id)).data)


ANSWER_403 = (
    "The access token lacks the `inbox` scope (`insufficient_scope`), or the person started this "
    "activity and only the other party answers (`not_receptor`)."
)


class PersonActivityAcceptApi(PersonActivityApiMixin):
    error_descriptions = {"POST": {**PersonActivityApiMixin.error_descriptions["POST"], 403: ANSWER_403}}

    @extend_schema(
        tags=TAGS,
        auth=AUTH,
        operation_id="me_activities_accept",
        request=ActivityAcceptSerializer,
        responses=PersonActivitySerializer,
        description=(
            "The person accepts what the activity asks, as on their consent page: required details must be "
            "included, a request or swap needs `sharing_period`, an authorization with `requires_bioface` "
            "needs the face check done on the consent page first (409). A consent receipt is issued."
        ),
    )
    def post(self, request: Request, activity_id: UUID) -> Response:
        mine = self.mine(activity_id, receptor_only=True)
        serializer = ActivityAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        activity_accept(activity=mine.activity, actor=self.actor, **serializer.validated_data)
        return self.respond(activity_id)


class PersonActivityDeclineApi(PersonActivityApiMixin):
    error_descriptions = {"POST": {**PersonActivityApiMixin.error_descriptions["POST"], 403: ANSWER_403}}

    @extend_schema(
        tags=TAGS,
        auth=AUTH,
        operation_id="me_activities_decline",
        request=None,
        responses=PersonActivitySerializer,
        description="The person declines what the activity asks (→ DECLINED); nothing is shared.",
    )
    def post(self, request: Request, activity_id: UUID) -> Response:
        mine = self.mine(activity_id, receptor_only=True)
        activity_decline(activity=mine.activity, actor=self.actor)
        return self.respond(activity_id)


class PersonSharingRevokeApi(PersonActivityApiMixin):
    @extend_schema(
        tags=TAGS,
        auth=AUTH,
        operation_id="me_sharings_revoke",
        request=None,
        responses=PersonActivitySerializer,
        description=(
            "Either party ends a sharing (an ACCEPTED or COMPLETED activity) early: it becomes EXPIRED "
            "(reason `revoked`) and the shared values are deleted. 409 when nothing is being shared."
        ),
    )
    def post(self, request: Request, activity_id: UUID) -> Response:
        mine = self.mine(activity_id)
        activity_revoke(activity=mine.activity, actor=self.actor)
        return self.respond(activity_id)
