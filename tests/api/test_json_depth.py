"""Issue 15, finding 3 (low): a JSON body nested 5,000 levels deep answered 500 (RecursionError)
on authenticated endpoints. Every API operation that reads a body now answers 400 `too_deep` in
the error shape (apps.api.parsers), and the session WebSocket never parses what a client sends."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import re

import pytest
from asgiref.sync import async_to_sync
from channels.routing import URLRouter
from channels.testing import WebsocketCommunicator
from django.test import Client, override_settings
from rest_framework.exceptions import ParseError

from apps.api.parsers import MAX_JSON_DEPTH, DepthLimitedJSONParser
from config.routing import websocket_urlpatterns
from tests.activities.conftest import make_party
from tests.factories import make_person

pytestmark = pytest.mark.django_db

ORG = "/api/v1/orgs/acme"


def deep(levels: int, kind: str = "list") -> str:
    """`levels` nested arrays (or objects) around a number, as raw JSON text."""
    if kind == "list":
        return "[" * levels + "1" + "]" * levels
    return '{"a":' * levels + "1" + "}" * levels


def _assert_too_deep(response) -> None:
    assert response.status_code == 400, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    (error,) = response.json()["errors"]
    assert error["code"] == "too_deep"


def _schema_operations(client) -> list[tuple[str, str]]:
    """(method, path) of every documented operation that may carry a body (POST, PUT, PATCH)."""
    schema = json.loads(client.get("/api/schema/", {"format": "json"}).content)
    return [(m, path) for path, item in schema["paths"].items() for m in item if m in ("post", "put", "patch")]


# --- The attack, on every operation that reads a body -------------------------------------------


@pytest.mark.parametrize("kind", ["list", "object"])
def test_a_deeply_nested_body_never_answers_500_anywhere(api, org, client, kind):
    operations = _schema_operations(client)
    assert len(operations) >= 20
    body = deep(5000, kind)
    for method, path in operations:
        url = path.replace("{org_id}", "acme").replace("{provider}", "onfido")
        # Other ids are made up, so a 404 (or the 401 of a session token) may come first; an
        # operation that takes no body never reads it.
        url = re.sub(r"\{\w+\}", "00000000-0000-4000-8000-000000000000", url)
        response = getattr(api, method)(url, body, content_type="application/json")
        assert response.status_code < 500, (method, url, response.status_code)
        assert response["Content-Type"].startswith("application/json"), (method, url)
        if response.status_code == 400:
            assert response.json()["errors"][0]["code"] == "too_deep", (method, url, response.json())


@pytest.mark.parametrize(
    "path",
    ["/activities", "/external-personal-identities", "/identifications/otp", "/processes", "/sessions", "/webhooks"],
)
def test_creating_with_a_deeply_nested_body_is_a_400(api, org, path):
    _assert_too_deep(api.post(f"{ORG}{path}", deep(5000), content_type="application/json"))


def test_answering_an_activity_with_a_deeply_nested_body_is_a_400(api, org):
    initiator = make_party(org, "bank@example.com", first_name="Bank", last_name="Advisor")
    receptor = make_party(org, "eva@example.com", first_name="Eva", last_name="Smit")
    created = api.post(
        f"{ORG}/activities",
        {
            "type": "AT_001",
            "initiator_id": str(initiator.pk),
            "receptor_id": str(receptor.pk),
            "requirements": [{"detail": "first_name", "required": True}],
        },
        format="json",
    ).json()

    _assert_too_deep(api.post(f"{ORG}/activities/{created['id']}/accept", deep(5000), content_type="application/json"))
    body = '{"accepted_details": ' + deep(5000, "object") + ', "sharing_period": "P1D"}'
    _assert_too_deep(api.post(f"{ORG}/activities/{created['id']}/accept", body, content_type="application/json"))


def test_a_signed_provider_callback_with_a_deeply_nested_body_is_a_400(client):
    raw = (
        '{"processId": "00000000-0000-4000-8000-000000000000", "event": "finished", "providerSpecific": '
        + deep(5000, "object")
        + "}"
    ).encode()
    signature = "sha256=" + hmac.new(b"onfido-secret", raw, hashlib.sha256).hexdigest()
    with override_settings(PROVIDER_SECRETS={"onfido": "onfido-secret"}):
        response = client.post(
            "/api/v1/providers/onfido/callback",
            raw,
            content_type="application/json",
            HTTP_X_PROVIDER_SIGNATURE=signature,
        )
    _assert_too_deep(response)


def test_a_person_answering_a_session_with_a_deeply_nested_body_gets_a_400(api, org):
    session = api.post(f"{ORG}/sessions", {"scopes": ["first_name"]}, format="json").json()
    phone = Client(enforce_csrf_checks=True)
    phone.force_login(make_person("ana@example.com"))
    phone.get(f"/api/v1/session/{session['session_id']}/information")
    phone.get("/me/")

    response = phone.post(
        f"/api/v1/session/{session['session_id']}/update",
        deep(5000),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=phone.cookies["csrftoken"].value,
    )

    _assert_too_deep(response)


# --- Where the limit is ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["list", "object"])
def test_the_parser_takes_the_limit_and_refuses_one_more_level(kind):
    parser = DepthLimitedJSONParser()

    assert parser.parse(io.BytesIO(deep(MAX_JSON_DEPTH, kind).encode())) is not None
    with pytest.raises(ParseError) as refused:
        parser.parse(io.BytesIO(deep(MAX_JSON_DEPTH + 1, kind).encode()))
    assert refused.value.detail.code == "too_deep"


def test_a_wide_but_shallow_body_is_fine():
    body = json.dumps({"items": [{"a": [1, 2, {"b": "c"}]} for _ in range(10_000)]})

    assert len(DepthLimitedJSONParser().parse(io.BytesIO(body.encode()))["items"]) == 10_000


# --- The session WebSocket ------------------------------------------------------------------------


def test_the_session_websocket_ignores_what_a_client_sends(api, org):
    session = api.post(f"{ORG}/sessions", {"scopes": ["first_name"]}, format="json").json()

    async def run():
        communicator = WebsocketCommunicator(
            URLRouter(websocket_urlpatterns), f"/ws/session/{session['session_id']}?token={session['session_token']}"
        )
        connected, _ = await communicator.connect()
        assert connected
        assert await communicator.receive_json_from() == {"status": "initialized"}
        await communicator.send_to(text_data=deep(5000))
        await communicator.send_to(text_data="not json at all")
        quiet = await communicator.receive_nothing(timeout=0.3)
        await communicator.disconnect()
        return quiet

    assert async_to_sync(run)() is True
