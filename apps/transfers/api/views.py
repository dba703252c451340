from __future__ import annotations

from typing import Any
from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.api.errors import Gone
from apps.api.throttles import SessionStatusRateThrottle, counted_windows
from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.core.counters import window_hit_get
from apps.oauth.authentication import AppTokenRateThrottle, HasAppScope, PersonAppAuthentication
from apps.oauth.schema import COOKIE_SCHEME, app_auth
from apps.oauth.scopes import SESSIONS
from apps.organizations.api.views import OrgAPIView
from apps.organizations.models import Organization, Scope
from apps.organizations.permissions import HasKeyScope
from apps.people.selectors import person_details
from apps.people.vocabulary import DETAILS_BY_NAME
from apps.transfers.api.serializers import (
    SessionCreatedSerializer,
    SessionCreateSerializer,
    SessionDecisionSerializer,
    SessionInformationSerializer,
    SessionStatusSerializer,
    SessionUpdateSerializer,
)
from apps.transfers.links import session_url
from apps.transfers.models import OPEN_STATUSES, SessionStatus, TransferSession
from apps.transfers.selectors import session_get
from apps.transfers.services import (
    session_answer,
    session_create,
    session_expire_if_overdue,
    session_renew,
    session_retrieve,
    session_token_valid,
)
from apps.transfers.status_cache import status_cached, status_key, status_remember, status_servable

TAGS = ["Data-transfer sessions"]
TOKEN_HEADER = OpenApiParameter(
    "X-Session-Token", str, OpenApiParameter.HEADER, required=True, description="The session_token from creation."
)


def created_body(session: TransferSession, token: str) -> dict[str, Any]:
    return SessionCreatedSerializer(
        {
            "session_id": session.pk,
            "session_token": token,
            "url": session_url(session),
            "status": session.status,
            "expires_at": session.expires_at,
        }
    ).data


def information_body(session: TransferSession, person: Any) -> dict[str, Any]:
    values = {d.name: d.value for d in person_details(person=person)}
    return SessionInformationSerializer(
        {
            "session_id": session.pk,
            "status": session.status,
            "expires_at": session.expires_at,
            "requester": {"name": session.organization.name},
            "scopes": [
                {"name": name, "label": DETAILS_BY_NAME[name].label, "value": values.get(name)}
                for name in session.scopes
            ],
            "matching_code": session.matching_code,
        }
    ).data


class SessionCreateApi(OrgAPIView):
    required_scope = Scope.SESSIONS

    @extend_schema(
        tags=TAGS,
        operation_id="sessions_create",
        request=SessionCreateSerializer,
        responses={201: SessionCreatedSerializer},
        description="Start a short-lived data-transfer session; show `url` as a QR code (or embed the display page).",
    )
    def post(self, request: Request, org_id: str) -> Response:
        serializer = SessionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        session, token = session_create(
            organization=self.organization,
            scopes=data["scopes"],
            vendor_data=data["vendor_data"],
            callback=data["callback"],
            expires_in=data["expires_in"],
            actor=self.actor,
        )
        return Response(created_body(session, token), status=status.HTTP_201_CREATED)


def decision_response(*, organization: Organization, session_id: UUID) -> Response:
    """The decision of one of `organization`'s sessions, the same on both decision paths."""
    session = session_get(organization=organization, session_id=session_id)
    if session is None:
        raise exceptions.NotFound("No such session in this organization.")
    session = session_expire_if_overdue(session=session)
    if session.status in OPEN_STATUSES:
        raise StateConflict(f"The session is still {session.status}.")
    if session.data_purged_at is not None:
        raise Gone("The session's data was purged after the retention period.")
    return Response(
        SessionDecisionSerializer(
            {
                "id": session.pk,
                "status": session.status,
                "vendor_data": session.vendor_data,
                "data": session.data if session.status == SessionStatus.CONFIRMED else None,
            }
        ).data
    )


DECISION_DESCRIPTION = "409 while initialized or retrieved; `data` only when confirmed; 410 once purged."


class SessionDecisionApi(OrgAPIView):
    required_scope = Scope.SESSIONS
    extra_error_codes: tuple[int, ...] = (409, 410)

    @extend_schema(
        tags=TAGS,
        operation_id="sessions_decision",
        responses=SessionDecisionSerializer,
        description=DECISION_DESCRIPTION,
    )
    def get(self, request: Request, org_id: str, session_id: UUID) -> Response:
        return decision_response(organization=self.organization, session_id=session_id)


class SessionDecisionBySessionIdApi(OrgAPIView):
    """Seed 004's own path for the decision, without the organization: the API key says whose
    session it is (another organization's session → 404, as on the organization path)."""

    permission_classes = [HasKeyScope]
    required_scope = Scope.SESSIONS
    extra_error_codes: tuple[int, ...] = (409, 410)

    @extend_schema(
        tags=TAGS,
        operation_id="sessions_decision_by_session_id",
        responses=SessionDecisionSerializer,
        description=(
            "Seed 004's path, the same answers as `GET /orgs/{org_id}/sessions/{session_id}/decision`: "
            "authenticated with the API key (scope `sessions`), not the session token; a session of "
            "another organization → 404. " + DECISION_DESCRIPTION
        ),
    )
    def get(self, request: Request, session_id: UUID) -> Response:
        return decision_response(organization=self.organization, session_id=session_id)


class TokenSessionApi(APIView):
    """Authenticated by the session token in X-Session-Token; a wrong or missing token → 401."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []
    extra_error_codes: tuple[int, ...] = (401,)

    def get_authenticate_header(self, request: Request) -> str:
        return 'Session-Token header="X-Session-Token"'

    def get_session(self, request: Request, session_id: UUID) -> TransferSession:
        session = session_get(session_id=session_id)
        # Unknown session and wrong token answer alike: nothing is revealed without the token.
        if session is None or not session_token_valid(session, request.headers.get("X-Session-Token")):
            raise exceptions.NotAuthenticated("Missing or invalid X-Session-Token.")
        return session_expire_if_overdue(session=session)


class SessionStatusApi(TokenSessionApi):
    throttle_classes = [SessionStatusRateThrottle]
    extra_error_codes: tuple[int, ...] = (401, 429)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # Hot path, before DRF's request machinery: one cache round trip counts the poll for
        # the rate limit and reads the entry the transitions keep exact
        # (apps.transfers.status_cache). Anything else (a miss, an open session past
        # expires_at, a wrong token, past the limit, another method or Accept) goes on to DRF
        # below, which reuses the count instead of counting the poll again.
        if request.method == "GET" and _accepts_json(request):
            response = self._from_cache(request, kwargs["session_id"])
            if response is not None:
                return response
        return super().dispatch(request, *args, **kwargs)

    def _from_cache(self, request: HttpRequest, session_id: UUID) -> HttpResponse | None:
        throttle = SessionStatusRateThrottle()
        counter = throttle.window_counter(request, self)
        if counter is None:
            entry, count = status_cached(session_id), None
        else:
            count, entry = window_hit_get(throttle.cache, *counter, status_key(session_id))
            if count is not None:
                counted_windows(request)[counter[0]] = count
                if count > throttle.num_requests:
                    return None
        body = status_servable(entry, request.META.get("HTTP_X_SESSION_TOKEN"))
        if body is None:
            return None
        self.headers = self.default_response_headers
        response = HttpResponse(body, content_type="application/json")
        for name, value in self.headers.items():
            response[name] = value
        return response

    @extend_schema(
        tags=TAGS, operation_id="sessions_status", auth=[], parameters=[TOKEN_HEADER], responses=SessionStatusSerializer
    )
    def get(self, request: Request, session_id: UUID) -> Response:
        # The database path (the cached one is dispatch's): the read-time guard expires an
        # overdue session, and the entry is added for the next polls.
        session = self.get_session(request, session_id)
        status_remember(session)
        return Response(SessionStatusSerializer(session).data)


def _accepts_json(request: HttpRequest) -> bool:
    # META rather than request.headers: that builds a mapping of every header, on a path
    # where each microsecond counts.
    accept = request.META.get("HTTP_ACCEPT", "")
    return not accept or "*/*" in accept or "application/json" in accept


class SessionRenewApi(TokenSessionApi):
    @extend_schema(
        tags=TAGS,
        operation_id="sessions_renew",
        auth=[],
        parameters=[TOKEN_HEADER],
        request=None,
        responses={201: SessionCreatedSerializer, 200: SessionCreatedSerializer},
        description=(
            "While initialized or expired: 201 with a new session (new token and url); the old one expires "
            "with `replaced_by`. Renewing a session that was already renewed answers 200 with the same "
            "replacement, so every page showing the old QR follows it."
        ),
    )
    def post(self, request: Request, session_id: UUID) -> Response:
        session = self.get_session(request, session_id)
        new, token, created = session_renew(session=session, actor=Actor.system("session renewal"))
        return Response(created_body(new, token), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class PersonSessionApi(APIView):
    """For the signed-in person: their browser session (CSRF enforced on writes), or the access
    token of their app (API.md "People's apps": scope `sessions`, rate limited per app and
    person; no CSRF, a bearer header is no credential a browser sends by itself)."""

    authentication_classes = [PersonAppAuthentication, SessionAuthentication]
    permission_classes = [HasAppScope]
    throttle_classes = [AppTokenRateThrottle]
    required_app_scope = SESSIONS
    extra_error_codes: tuple[int, ...] = (401, 403, 429)
    error_descriptions = {
        method: {
            401: "Not signed in: no browser session, and no valid access token of the person's app.",
            403: (
                "A browser session's write without its CSRF token, or an access token without the "
                "`sessions` scope (`insufficient_scope`)."
            ),
            429: "The app's requests for this person are rate limited (APP_TOKEN_RATE_LIMIT); see Retry-After.",
        }
        for method in ("GET", "POST")
    }

    def get_session(self, session_id: UUID) -> TransferSession:
        session = session_get(session_id=session_id)
        if session is None:
            raise exceptions.NotFound("No such session.")
        return session


# The person's browser session, or their app's access token with the `sessions` scope.
PERSON_AUTH = [{COOKIE_SCHEME: []}, *app_auth(SESSIONS)]


class SessionInformationApi(PersonSessionApi):
    extra_error_codes: tuple[int, ...] = (401, 403, 409, 429)

    @extend_schema(
        tags=TAGS,
        operation_id="sessions_information",
        auth=PERSON_AUTH,
        responses=SessionInformationSerializer,
        description="The requester and requested scopes with the person's values; sets `retrieved`.",
    )
    def get(self, request: Request, session_id: UUID) -> Response:
        session = session_retrieve(session=self.get_session(session_id), person=request.user)
        return Response(information_body(session, request.user))


class SessionUpdateApi(PersonSessionApi):
    @extend_schema(
        tags=TAGS,
        operation_id="sessions_update",
        auth=PERSON_AUTH,
        request=SessionUpdateSerializer,
        responses=SessionStatusSerializer,
        description=(
            "Confirm with the accepted scopes, or decline. Only from `retrieved`; a second answer → 409. "
            "`confirmed` must accept at least one requested scope the person has a value for: with none "
            "(`accepted_scopes` empty or absent) → 400 and the session stays `retrieved`."
        ),
    )
    def post(self, request: Request, session_id: UUID) -> Response:
        serializer = SessionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = session_answer(
            session=self.get_session(session_id),
            person=request.user,
            decision=serializer.validated_data["decision"],
            accepted_scopes=serializer.validated_data["accepted_scopes"],
        )
        return Response(SessionStatusSerializer(session).data)
