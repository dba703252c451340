"""The session endpoints with the access token of the person's app (API.md "People's apps", seed
004: the app scans the QR and calls information and update "with the user's access token")."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client

from apps.audit.models import Transition
from apps.transfers.models import TransferSession
from tests.factories import make_person
from tests.oauth.flow import bearer, register_app, sign_in_and_approve
from tests.transfers.conftest import csrf_post

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()


@pytest.fixture
def app(db):
    return register_app()


def _app_client(person, app, scope="openid sessions") -> Client:
    # enforce_csrf_checks: a bearer request needs no CSRF token, a browser session still does.
    return Client(enforce_csrf_checks=True, **bearer(sign_in_and_approve(person, app, scope).access_token))


def test_the_app_confirms_a_session_with_its_token_and_no_csrf(new_session, ana, app):
    session = new_session()
    sid = session["session_id"]
    client = _app_client(ana, app)

    info = client.get(f"/api/v1/session/{sid}/information")
    update = client.post(
        f"/api/v1/session/{sid}/update",
        {"decision": "confirmed", "accepted_scopes": ["first_name"]},
        content_type="application/json",
    )

    assert info.status_code == 200
    assert info.json()["requester"] == {"name": "Acme Bank"}
    assert {s["name"]: s["value"] for s in info.json()["scopes"]} == {"first_name": "Ana", "last_name": "García"}
    assert update.status_code == 200, update.content
    assert update.json()["status"] == "confirmed"
    stored = TransferSession.objects.get(pk=sid)
    assert stored.person_id == ana.pk
    assert stored.data == {"first_name": "Ana"}
    rows = Transition.objects.filter(object_id=sid).order_by("id")
    assert [(r.to_state, r.actor_id) for r in rows][-2:] == [("retrieved", str(ana.pk)), ("confirmed", str(ana.pk))]


def test_a_token_without_the_sessions_scope_is_refused(new_session, ana, app):
    sid = new_session()["session_id"]
    client = _app_client(ana, app, scope="openid inbox details")

    response = client.get(f"/api/v1/session/{sid}/information")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "insufficient_scope"
    assert TransferSession.objects.get(pk=sid).status == "initialized"


def test_another_persons_token_cannot_answer_a_bound_session(new_session, ana, app):
    sid = new_session()["session_id"]
    _app_client(ana, app).get(f"/api/v1/session/{sid}/information")
    eve = _app_client(make_person("eve@example.com", first_name="Eve"), app)

    information = eve.get(f"/api/v1/session/{sid}/information")
    update = eve.post(f"/api/v1/session/{sid}/update", {"decision": "declined"}, content_type="application/json")

    assert information.status_code == 409
    assert update.status_code == 409
    assert TransferSession.objects.get(pk=sid).status == "retrieved"


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer ipk_abcdef_secret"])
def test_a_bad_token_or_an_api_key_is_a_401(new_session, header):
    sid = new_session()["session_id"]

    response = Client().get(f"/api/v1/session/{sid}/information", HTTP_AUTHORIZATION=header)

    assert response.status_code == 401


def test_a_revoked_token_stops_at_once(new_session, ana, app):
    sid = new_session()["session_id"]
    tokens = sign_in_and_approve(ana, app, "openid sessions")
    Client().post("/oauth/revoke_token/", {"token": tokens.access_token, "client_id": app.client_id})

    response = Client(**bearer(tokens.access_token)).get(f"/api/v1/session/{sid}/information")

    assert response.status_code == 401


def test_the_browser_keeps_its_csrf_check(new_session, phone):
    sid = new_session()["session_id"]
    phone.get(f"/api/v1/session/{sid}/information")

    without = phone.post(f"/api/v1/session/{sid}/update", {"decision": "declined"}, content_type="application/json")
    with_csrf = csrf_post(phone, f"/api/v1/session/{sid}/update", {"decision": "declined"})

    assert without.status_code == 403
    assert with_csrf.status_code == 200


def test_signed_out_is_a_401(new_session):
    sid = new_session()["session_id"]

    assert Client().get(f"/api/v1/session/{sid}/information").status_code == 401
