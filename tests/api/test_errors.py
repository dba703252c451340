"""One JSON error shape on every API path (API.md "Conventions"): never HTML, never a 500
for bad input. Throwaway views live in this module, which doubles as a test-only urlconf."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.core.exceptions import BadRequest
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseServerError
from django.test import override_settings
from django.urls import path
from django.views.decorators.http import require_POST
from django_fsm import TransitionNotAllowed
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

import apps.identities.api.views as identity_views
from apps.api.durations import IsoDurationField
from apps.api.errors import Conflict, Gone
from apps.audit.errors import StateConflict
from apps.identities.models import ExternalPersonalIdentity
from config.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme/external-personal-identities"
PAYLOAD = {"emailAddress": "ana@example.com", "firstName": "Ana", "lastName": "García", "managed": True}
THIS_URLCONF = __name__


def _assert_error_shape(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"errors"}
    assert body["errors"]
    for item in body["errors"]:
        assert {"code", "message"} <= set(item) <= {"code", "message", "field"}
        assert isinstance(item["code"], str) and item["code"]
        assert isinstance(item["message"], str) and item["message"]
    return body["errors"]


# --- Throwaway views for this module's urlconf ------------------------------------------


class _ActorSerializer(serializers.Serializer):
    email = serializers.EmailField()


class _RequirementSerializer(serializers.Serializer):
    detail = serializers.CharField()
    required = serializers.BooleanField()


class _NestedSerializer(serializers.Serializer):
    name = serializers.CharField(required=False)
    actor = _ActorSerializer(required=False)
    requirements = _RequirementSerializer(many=True, required=False)
    tags = serializers.ListField(child=serializers.IntegerField(), required=False)
    valid_for = IsoDurationField(minimum=timedelta(seconds=1), maximum=timedelta(days=90), required=False)


class _ValidateApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        serializer = _NestedSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"ok": True})


RAISED: dict[str, Exception] = {
    "http404": Http404("nothing here"),
    "django-permission": DjangoPermissionDenied(),
    "transition": TransitionNotAllowed("Can't switch from state 'A' using method 'b'"),
    "state-conflict": StateConflict("Already final."),
    "conflict": Conflict(),
    "gone": Gone(),
    "django-validation-message": DjangoValidationError("Something is off."),
    "django-validation-dict": DjangoValidationError({"email_address": ["Taken."], "first_name": ["Too long."]}),
    "bad-request": BadRequest("Malformed."),
    "runtime": RuntimeError("database password is hunter2"),
}
EXPECTED_STATUS = {
    "http404": 404,
    "django-permission": 403,
    "transition": 409,
    "state-conflict": 409,
    "conflict": 409,
    "gone": 410,
    "django-validation-message": 400,
    "django-validation-dict": 400,
    "bad-request": 400,
}


class _RaiseApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request, name: str) -> Response:
        raise RAISED[name]


def _plain_raise(request: HttpRequest, name: str) -> HttpResponse:
    raise RAISED[name]


def _plain_html_500(request: HttpRequest) -> HttpResponse:
    return HttpResponseServerError("<h1>Server Error</h1>")


@require_POST
def _plain_post_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [
    *project_urlpatterns,
    path("api/v1/test/validate", _ValidateApi.as_view()),
    path("api/v1/test/raise/<str:name>", _RaiseApi.as_view()),
    path("api/v1/test/plain-raise/<str:name>", _plain_raise),
    path("api/v1/test/plain-html-500", _plain_html_500),
    path("api/v1/test/plain-post-only", _plain_post_only),
    path("elsewhere/raise/<str:name>", _plain_raise),
]


# --- Unknown paths and methods ------------------------------------------------------------


UNKNOWN_PATHS = [
    "/api/v1/nope",
    "/api/v1/orgs/acme/nope",
    "/api/v1/orgs/acme/external-personal-identities/not-a-uuid/extra",
    "/api/nope/",
    "/api/v2/orgs/acme/external-personal-identities",
]


@pytest.mark.parametrize("url", UNKNOWN_PATHS)
@pytest.mark.parametrize("debug", [False, True])
def test_it_answers_json_404_for_an_unknown_api_path(api, url, debug):
    with override_settings(DEBUG=debug):
        response = api.get(url)

    assert response.status_code == 404
    assert _assert_error_shape(response)[0]["code"] == "not_found"
    assert b"<html" not in response.content.lower()


@pytest.mark.parametrize("debug", [False, True])
def test_it_answers_json_404_to_an_unknown_path_without_a_key(org, make_client, debug):
    with override_settings(DEBUG=debug):
        response = make_client(None).post("/api/v1/nope", {"a": 1}, format="json")

    assert response.status_code == 404
    _assert_error_shape(response)


def test_it_leaves_non_api_404s_alone(client, db):
    response = client.get("/definitely-not-a-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("method", ["delete", "put"])
def test_it_answers_json_405_for_a_wrong_method(api, org, method):
    response = getattr(api, method)(BASE, PAYLOAD, format="json")

    assert response.status_code == 405
    assert _assert_error_shape(response)[0]["code"] == "method_not_allowed"
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


@override_settings(ROOT_URLCONF=THIS_URLCONF)
@pytest.mark.parametrize("debug", [False, True])
def test_it_answers_json_405_from_a_plain_django_view_and_keeps_allow(client, db, debug):
    with override_settings(DEBUG=debug):
        response = client.get("/api/v1/test/plain-post-only")

    assert response.status_code == 405
    assert _assert_error_shape(response)[0]["code"] == "method_not_allowed"
    assert response["Allow"] == "POST"


# --- Bad bodies -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", ["{not json", '{"emailAddress": ', "\xff\xfe", "null garbage"])
def test_it_answers_json_400_for_an_invalid_json_body(api, org, body):
    response = api.post(BASE, data=body, content_type="application/json")

    assert response.status_code == 400
    assert _assert_error_shape(response)[0]["code"] == "parse_error"
    assert not ExternalPersonalIdentity.objects.exists()


@pytest.mark.parametrize("body", ["[]", '"a string"', "42"])
def test_it_answers_json_400_for_a_json_body_that_is_not_an_object(api, org, body):
    response = api.post(BASE, data=body, content_type="application/json")

    assert response.status_code == 400
    _assert_error_shape(response)
    assert not ExternalPersonalIdentity.objects.exists()


def test_it_answers_json_415_for_a_form_body(api, org):
    response = api.post(BASE, data="emailAddress=ana%40example.com", content_type="application/x-www-form-urlencoded")

    assert response.status_code == 415
    assert _assert_error_shape(response)[0]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("idempotency_key", [None, "big-body-1"])
def test_it_never_answers_500_to_a_body_over_the_size_limit(api, org, settings, idempotency_key):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    body = json.dumps({**PAYLOAD, "firstName": "A" * 4096})
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}

    response = api.post(BASE, data=body, content_type="application/json", headers=headers)

    assert response.status_code == 413
    assert _assert_error_shape(response)[0]["code"] == "too_large"
    assert not ExternalPersonalIdentity.objects.exists()


# --- Field paths --------------------------------------------------------------------------


@override_settings(ROOT_URLCONF=THIS_URLCONF)
def test_it_names_the_field_at_fault(api):
    response = api.post("/api/v1/test/validate", {"name": ""}, format="json")

    assert response.status_code == 400
    errors = _assert_error_shape(response)
    assert [(e["field"], e["code"]) for e in errors] == [("name", "blank")]


@override_settings(ROOT_URLCONF=THIS_URLCONF)
def test_it_names_nested_fields_with_a_dotted_path(api):
    response = api.post(
        "/api/v1/test/validate",
        {
            "actor": {"email": "not-an-email"},
            "requirements": [{"detail": "email", "required": True}, {"detail": "", "required": "maybe"}],
            "tags": [1, "two", 3],
            "valid_for": "P1Y",
        },
        format="json",
    )

    assert response.status_code == 400
    fields = sorted(e["field"] for e in _assert_error_shape(response))
    assert fields == [
        "actor.email",
        "requirements[1].detail",
        "requirements[1].required",
        "tags[1]",
        "valid_for",
    ]


@override_settings(ROOT_URLCONF=THIS_URLCONF)
def test_it_names_a_nested_object_sent_as_the_wrong_type(api):
    response = api.post("/api/v1/test/validate", {"actor": "ana", "requirements": {"detail": "x"}}, format="json")

    assert response.status_code == 400
    assert sorted(e["field"] for e in _assert_error_shape(response)) == ["actor", "requirements"]


@override_settings(ROOT_URLCONF=THIS_URLCONF)
def test_it_accepts_valid_nested_input(api):
    response = api.post(
        "/api/v1/test/validate",
        {"actor": {"email": "ana@example.com"}, "requirements": [{"detail": "email", "required": True}], "tags": [1]},
        format="json",
    )

    assert response.status_code == 200


@override_settings(ROOT_URLCONF=THIS_URLCONF)
@pytest.mark.parametrize("duration", ["P1Y", "P0D", "-P1D", "P99999999999D", "PT99999999999999999999S", 30, None])
def test_it_answers_400_naming_the_field_for_a_bad_duration(api, duration):
    response = api.post("/api/v1/test/validate", {"valid_for": duration}, format="json")

    assert response.status_code == 400
    assert [e["field"] for e in _assert_error_shape(response)] == ["valid_for"]


def test_it_names_the_field_of_a_real_endpoint(api, org):
    response = api.post(BASE, {**PAYLOAD, "emailAddress": "nope"}, format="json")

    assert response.status_code == 400
    assert [e["field"] for e in _assert_error_shape(response)] == ["emailAddress"]


# --- Exceptions raised by services --------------------------------------------------------


@override_settings(ROOT_URLCONF=THIS_URLCONF)
@pytest.mark.parametrize("name", sorted(EXPECTED_STATUS))
def test_it_maps_exceptions_from_drf_views_to_json(api, name):
    """Service exceptions (Http404, FSM conflicts, Django ValidationError, ...) keep their meaning."""
    response = api.get(f"/api/v1/test/raise/{name}")

    assert response.status_code == EXPECTED_STATUS[name]
    _assert_error_shape(response)


@override_settings(ROOT_URLCONF=THIS_URLCONF)
def test_it_turns_a_service_validation_error_into_400_with_fields(api):
    response = api.get("/api/v1/test/raise/django-validation-dict")

    assert response.status_code == 400
    errors = _assert_error_shape(response)
    assert sorted((e["field"], e["message"]) for e in errors) == [
        ("email_address", "Taken."),
        ("first_name", "Too long."),
    ]


@override_settings(ROOT_URLCONF=THIS_URLCONF)
def test_it_turns_a_fieldless_service_validation_error_into_400_without_field(api):
    response = api.get("/api/v1/test/raise/django-validation-message")

    assert response.status_code == 400
    assert _assert_error_shape(response) == [{"code": "invalid", "message": "Something is off."}]


def test_it_turns_a_validation_error_from_a_real_service_into_400(api, org, monkeypatch):
    def refuse(**kwargs):
        raise DjangoValidationError({"managed": ["Not today."]})

    monkeypatch.setattr(identity_views, "identity_create", refuse)

    response = api.post(BASE, PAYLOAD, format="json")

    assert response.status_code == 400
    assert _assert_error_shape(response) == [{"code": "invalid", "message": "Not today.", "field": "managed"}]


def test_it_turns_a_state_conflict_from_a_real_service_into_409(api, org, monkeypatch):
    def refuse(**kwargs):
        raise TransitionNotAllowed("Can't switch from state 'INVITED' using method 'activate'")

    monkeypatch.setattr(identity_views, "identity_create", refuse)

    response = api.post(BASE, PAYLOAD, format="json")

    assert response.status_code == 409
    assert _assert_error_shape(response)[0]["code"] == "state_conflict"


# --- 500 ----------------------------------------------------------------------------------


@pytest.mark.parametrize("debug", [False, True])
def test_it_answers_json_500_for_an_unhandled_error_in_an_api_view(api, org, monkeypatch, caplog, debug):
    def explode(**kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(identity_views, "identity_create", explode)

    with override_settings(DEBUG=debug), caplog.at_level(logging.ERROR, logger="apps.api"):
        response = api.post(BASE, PAYLOAD, format="json")

    assert response.status_code == 500
    assert _assert_error_shape(response) == [
        {"code": "server_error", "message": "An unexpected error occurred; it has been logged."}
    ]
    assert b"hunter2" not in response.content
    assert any(record.exc_info and "hunter2" in str(record.exc_info[1]) for record in caplog.records)


@override_settings(ROOT_URLCONF=THIS_URLCONF)
@pytest.mark.parametrize("debug", [False, True])
def test_it_answers_json_500_for_an_unhandled_error_in_a_throwaway_drf_view(api, debug):
    with override_settings(DEBUG=debug):
        response = api.get("/api/v1/test/raise/runtime")

    assert response.status_code == 500
    assert _assert_error_shape(response)[0]["code"] == "server_error"
    assert b"hunter2" not in response.content


@override_settings(ROOT_URLCONF=THIS_URLCONF)
@pytest.mark.parametrize("debug", [False, True])
def test_it_answers_json_500_for_an_unhandled_error_in_a_plain_view(client, db, debug):
    with override_settings(DEBUG=debug):
        response = client.get("/api/v1/test/plain-raise/runtime")

    assert response.status_code == 500
    assert _assert_error_shape(response)[0]["code"] == "server_error"
    assert b"hunter2" not in response.content


@override_settings(ROOT_URLCONF=THIS_URLCONF)
def test_it_turns_an_html_500_page_into_json(client, db):
    response = client.get("/api/v1/test/plain-html-500")

    assert response.status_code == 500
    assert _assert_error_shape(response)[0]["code"] == "server_error"


@override_settings(ROOT_URLCONF=THIS_URLCONF)
@pytest.mark.parametrize(("name", "status"), [("http404", 404), ("django-permission", 403), ("bad-request", 400)])
@pytest.mark.parametrize("debug", [False, True])
def test_it_keeps_the_status_of_django_exceptions_in_plain_api_views(client, db, name, status, debug):
    with override_settings(DEBUG=debug):
        response = client.get(f"/api/v1/test/plain-raise/{name}")

    assert response.status_code == status
    _assert_error_shape(response)


@override_settings(ROOT_URLCONF=THIS_URLCONF)
def test_it_leaves_errors_outside_the_api_to_django(client, db):
    client.raise_request_exception = False

    response = client.get("/elsewhere/raise/runtime")

    assert response.status_code == 500
    assert not response["Content-Type"].startswith("application/json")
