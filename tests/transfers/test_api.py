from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from apps.audit.models import Transition
from apps.transfers.models import TransferSession
from apps.transfers.services import sessions_expire_overdue, sessions_purge_data
from apps.webhooks.models import Event
from apps.webhooks.relay import events_relay
from tests.factories import make_api_key
from tests.transfers.conftest import CREATE_URL, csrf_post

pytestmark = pytest.mark.django_db


def _status(session_id, token):
    client = APIClient()
    headers = {} if token is None else {"HTTP_X_SESSION_TOKEN": token}
    return client.get(f"/api/v1/session/{session_id}/status", **headers)


def _decision(api, session_id, org="acme"):
    return api.get(f"/api/v1/orgs/{org}/sessions/{session_id}/decision")


def _answer(phone, session_id, decision="confirmed", accepted=("first_name",)):
    phone.get(f"/api/v1/session/{session_id}/information")
    return csrf_post(
        phone, f"/api/v1/session/{session_id}/update", {"decision": decision, "accepted_scopes": list(accepted)}
    )


def test_it_creates_an_initialized_session_with_a_token_and_url(new_session):
    before = timezone.now()
    body = new_session(vendor_data="user-42")
    assert body["status"] == "initialized"
    assert body["url"] == f"http://testserver/session/{body['session_id']}"
    assert len(body["session_token"]) >= 40
    session = TransferSession.objects.get(pk=body["session_id"])
    assert session.token_hash != body["session_token"]
    assert before + timedelta(minutes=9) < session.expires_at <= timezone.now() + timedelta(minutes=10)
    assert Transition.objects.filter(object_id=str(session.pk), to_state="initialized").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": []}, "scopes"),
        ({"scopes": ["shoe_size"]}, "scopes"),
        ({"scopes": ["email"], "expires_in": "PT10S"}, "expires_in"),
        ({"scopes": ["email"], "expires_in": "PT2H"}, "expires_in"),
        ({"scopes": ["email"], "expires_in": "10 minutes"}, "expires_in"),
        ({"scopes": ["email"], "callback": "ftp://x"}, "callback"),
        ({"scopes": ["email"], "status": "confirmed"}, "status"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(api, body, field):
    response = api.post(CREATE_URL, body, format="json")
    assert response.status_code == 400
    assert any((e.get("field") or "").startswith(field) for e in response.json()["errors"])
    assert not TransferSession.objects.exists()


def test_it_honours_expires_in(new_session):
    body = new_session(expires_in="PT30S")
    session = TransferSession.objects.get(pk=body["session_id"])
    assert session.expires_at - session.created_at == timedelta(seconds=30)


def test_it_needs_the_sessions_scope(org, make_client):
    client = make_client(make_api_key(org, scopes=["identities"]))
    assert client.post(CREATE_URL, {"scopes": ["email"]}, format="json").status_code == 403


def test_it_reports_status_only_with_the_right_token(new_session):
    body = new_session()
    ok = _status(body["session_id"], body["session_token"])
    assert ok.status_code == 200
    assert ok.json() == {
        "session_id": body["session_id"],
        "status": "initialized",
        "expires_at": body["expires_at"],
        "replaced_by": None,
    }
    for token in (None, "", "wrong", body["session_token"] + "x"):
        response = _status(body["session_id"], token)
        assert response.status_code == 401
        assert "status" not in response.json()
    assert _status(uuid.uuid4(), body["session_token"]).status_code == 401


def test_it_runs_the_whole_flow_and_hands_over_only_accepted_scopes(api, new_session, phone):
    body = new_session(vendor_data="user-42")
    sid = body["session_id"]
    assert _decision(api, sid).status_code == 409

    info = phone.get(f"/api/v1/session/{sid}/information")
    assert info.status_code == 200
    assert info.json()["requester"] == {"name": "Acme Bank"}
    assert [(s["name"], s["value"]) for s in info.json()["scopes"]] == [("first_name", "Ana"), ("last_name", "García")]
    assert _status(sid, body["session_token"]).json()["status"] == "retrieved"
    assert _decision(api, sid).status_code == 409

    response = csrf_post(
        phone, f"/api/v1/session/{sid}/update", {"decision": "confirmed", "accepted_scopes": ["first_name"]}
    )
    assert response.status_code == 200
    assert response.json()["status"] == "confirmed"
    assert _status(sid, body["session_token"]).json()["status"] == "confirmed"
    decision = _decision(api, sid)
    assert decision.status_code == 200
    assert decision.json() == {
        "session_id": sid,
        "status": "confirmed",
        "vendor_data": "user-42",
        "data": {"first_name": "Ana"},
    }

    again = csrf_post(phone, f"/api/v1/session/{sid}/update", {"decision": "declined"})
    assert again.status_code == 409
    states = list(Transition.objects.filter(object_id=sid).order_by("created_at").values_list("to_state", flat=True))
    assert states == ["initialized", "retrieved", "confirmed"]
    events_relay()
    events = Event.objects.filter(type="session.status_changed", data__session_id=sid)
    assert sorted(e.data["status"] for e in events) == ["confirmed", "initialized", "retrieved"]
    assert all("Ana" not in str(e.data) for e in events)


def test_it_declines_without_data(api, new_session, phone):
    sid = new_session()["session_id"]
    assert _answer(phone, sid, decision="declined").status_code == 200
    assert _decision(api, sid).json()["data"] is None
    assert _decision(api, sid).json()["status"] == "declined"


def test_it_refuses_update_before_information(new_session, phone):
    sid = new_session()["session_id"]
    response = csrf_post(phone, f"/api/v1/session/{sid}/update", {"decision": "confirmed", "accepted_scopes": []})
    assert response.status_code == 409


def test_it_refuses_scopes_that_were_not_requested(new_session, phone):
    sid = new_session()["session_id"]
    response = _answer(phone, sid, accepted=["email"])
    assert response.status_code == 400
    assert TransferSession.objects.get(pk=sid).status == "retrieved"


def test_it_needs_a_signed_in_person_and_csrf(new_session, phone):
    sid = new_session()["session_id"]
    assert APIClient().get(f"/api/v1/session/{sid}/information").status_code in (401, 403)
    phone.get(f"/api/v1/session/{sid}/information")
    no_csrf = phone.post(f"/api/v1/session/{sid}/update", {"decision": "declined"}, content_type="application/json")
    assert no_csrf.status_code == 403
    assert TransferSession.objects.get(pk=sid).status == "retrieved"


def test_it_hides_sessions_of_other_organizations(new_session, outsider_api, api):
    sid = new_session()["session_id"]
    assert _decision(outsider_api, sid, org="globex").status_code == 404
    assert _decision(outsider_api, sid, org="acme").status_code == 404


def test_it_expires_at_read_time_and_by_the_sweep(api, new_session):
    first = new_session(expires_in="PT30S")
    second = new_session(expires_in="PT1M")
    with time_machine.travel(timezone.now() + timedelta(seconds=45), tick=False):
        assert _status(first["session_id"], first["session_token"]).json()["status"] == "expired"
        assert sessions_expire_overdue() == 0
    with time_machine.travel(timezone.now() + timedelta(seconds=90), tick=False):
        assert sessions_expire_overdue() == 1
    assert TransferSession.objects.get(pk=second["session_id"]).status == "expired"
    decision = _decision(api, first["session_id"])
    assert decision.status_code == 200
    assert decision.json()["data"] is None


def test_it_renews_a_session_and_the_old_one_stops_working(new_session, phone):
    old = new_session(expires_in="PT2M", vendor_data="v")
    response = APIClient().post(f"/api/v1/session/{old['session_id']}/renew", HTTP_X_SESSION_TOKEN=old["session_token"])
    assert response.status_code == 201
    new = response.json()
    assert new["session_id"] != old["session_id"] and new["session_token"] != old["session_token"]
    assert new["status"] == "initialized"
    status = _status(old["session_id"], old["session_token"]).json()
    assert status["status"] == "expired"
    assert status["replaced_by"] == new["session_id"]
    renewed = TransferSession.objects.get(pk=new["session_id"])
    assert (renewed.scopes, renewed.vendor_data) == (["first_name", "last_name"], "v")
    assert renewed.expires_at - renewed.created_at == timedelta(minutes=2)
    assert phone.get(f"/api/v1/session/{old['session_id']}/information").status_code == 409
    # Renewing again (a second display tab, a retried request) follows the same replacement.
    again = APIClient().post(f"/api/v1/session/{old['session_id']}/renew", HTTP_X_SESSION_TOKEN=old["session_token"])
    assert again.status_code == 200
    assert again.json() == new
    assert TransferSession.objects.count() == 2
    assert _status(new["session_id"], new["session_token"]).status_code == 200
    # The replacement token is kept encrypted and goes with the retention window.
    with connection.cursor() as cursor:
        cursor.execute("SELECT replacement_token FROM transfers_transfersession")
        stored = [row[0] for row in cursor.fetchall() if row[0]]
    assert len(stored) == 1 and new["session_token"] not in stored[0]
    with time_machine.travel(timezone.now() + timedelta(days=2), tick=False):
        sessions_purge_data()
    again = APIClient().post(f"/api/v1/session/{old['session_id']}/renew", HTTP_X_SESSION_TOKEN=old["session_token"])
    assert again.status_code == 409


def test_it_refuses_callbacks_to_private_addresses(api):
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False):
        for url in ("http://127.0.0.1/cb", "http://169.254.169.254/latest", "http://[::1]/x", "http://localhost/cb"):
            response = api.post(CREATE_URL, {"scopes": ["email"], "callback": url}, format="json")
            assert response.status_code == 400, url
            assert response.json()["errors"][0]["field"] == "callback"
        # A host that does not resolve yet is accepted; every send checks again.
        response = api.post(CREATE_URL, {"scopes": ["email"], "callback": "https://hooks.invalid/cb"}, format="json")
        assert response.status_code == 201
    assert TransferSession.objects.count() == 1


def test_it_renews_an_expired_session(new_session):
    old = new_session(expires_in="PT30S")
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        # A display polled the expired status first (now cached), then renewed.
        assert _status(old["session_id"], old["session_token"]).json()["status"] == "expired"
        response = APIClient().post(
            f"/api/v1/session/{old['session_id']}/renew", HTTP_X_SESSION_TOKEN=old["session_token"]
        )
        assert response.status_code == 201
        assert _status(old["session_id"], old["session_token"]).json()["replaced_by"] == response.json()["session_id"]


def test_it_refuses_to_renew_without_the_token_or_once_retrieved(new_session, phone):
    old = new_session()
    assert APIClient().post(f"/api/v1/session/{old['session_id']}/renew").status_code == 401
    phone.get(f"/api/v1/session/{old['session_id']}/information")
    response = APIClient().post(f"/api/v1/session/{old['session_id']}/renew", HTTP_X_SESSION_TOKEN=old["session_token"])
    assert response.status_code == 409


def test_it_purges_confirmed_data_after_the_retention_window(api, new_session, phone):
    sid = new_session()["session_id"]
    _answer(phone, sid)
    with override_settings(SESSION_DATA_RETENTION_SECONDS=3600):
        assert sessions_purge_data() == 0
        with time_machine.travel(timezone.now() + timedelta(hours=2), tick=False):
            assert sessions_purge_data() == 1
    assert _decision(api, sid).status_code == 410
    assert TransferSession.objects.get(pk=sid).data is None


def test_it_posts_to_the_callback_on_every_change(new_session, phone):
    from apps.webhooks.models import Delivery

    sid = new_session(callback="https://example.com/cb")["session_id"]
    _answer(phone, sid)
    bodies = [d.event.data for d in Delivery.objects.filter(url="https://example.com/cb").order_by("created_at")]
    assert [b["status"] for b in bodies] == ["retrieved", "confirmed"]
    assert all(b["session_id"] == sid for b in bodies)


def test_it_expires_on_time_through_the_countdown_task(new_session):
    from apps.transfers.tasks import expire_overdue_sessions, expire_session, purge_session_data

    body = new_session(expires_in="PT30S")
    expire_session(body["session_id"])  # too early: nothing happens
    assert TransferSession.objects.get(pk=body["session_id"]).status == "initialized"
    with time_machine.travel(timezone.now() + timedelta(seconds=31), tick=False):
        expire_session(body["session_id"])
        assert expire_overdue_sessions() == 0
        assert purge_session_data() == 0
    assert TransferSession.objects.get(pk=body["session_id"]).status == "expired"
    expire_session(str(uuid.uuid4()))  # a deleted session is no error


# --- Seed 004: a confirmation shares at least one detail ----------------------------------------


@pytest.mark.parametrize("update", [{"decision": "confirmed", "accepted_scopes": []}, {"decision": "confirmed"}])
def test_a_confirmation_with_no_accepted_scope_is_a_400_and_changes_nothing(api, new_session, phone, update):
    body = new_session(scopes=["last_name", "first_name"], vendor_data="crm-7731")
    sid = body["session_id"]
    phone.get(f"/api/v1/session/{sid}/information")
    transitions = Transition.objects.count()

    response = csrf_post(phone, f"/api/v1/session/{sid}/update", update)

    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["accepted_scopes"]
    assert "at least one" in response.json()["errors"][0]["message"]
    session = TransferSession.objects.get(pk=sid)
    assert (session.status, session.data, session.accepted_scopes) == ("retrieved", None, [])
    assert Transition.objects.count() == transitions
    assert _status(sid, body["session_token"]).json()["status"] == "retrieved"
    assert _decision(api, sid).status_code == 409
    # The person can still answer.
    again = csrf_post(
        phone, f"/api/v1/session/{sid}/update", {"decision": "confirmed", "accepted_scopes": ["last_name"]}
    )
    assert again.status_code == 200
    assert _decision(api, sid).json()["data"] == {"last_name": "García"}


def test_a_confirmation_of_details_the_person_has_not_given_is_a_400(new_session, phone):
    """Ana has no phone or nationality: accepting only those would share nothing."""
    sid = new_session(scopes=["phone", "nationality", "first_name"])["session_id"]
    phone.get(f"/api/v1/session/{sid}/information")

    response = csrf_post(
        phone, f"/api/v1/session/{sid}/update", {"decision": "confirmed", "accepted_scopes": ["phone", "nationality"]}
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "accepted_scopes"
    assert TransferSession.objects.get(pk=sid).status == "retrieved"


def test_declining_needs_no_accepted_scope(api, new_session, phone):
    sid = new_session(scopes=["email"])["session_id"]
    phone.get(f"/api/v1/session/{sid}/information")

    assert (
        csrf_post(phone, f"/api/v1/session/{sid}/update", {"decision": "declined", "accepted_scopes": []}).status_code
        == 200
    )
    assert _decision(api, sid).json()["status"] == "declined"


# --- Seed 004: GET /api/v1/session/{session_id}/decision with the API key -----------------------


def _seed_decision(client, session_id):
    return client.get(f"/api/v1/session/{session_id}/decision")


def test_the_seed_decision_path_answers_like_the_organization_path_in_every_state(api, new_session, phone):
    body = new_session(scopes=["last_name"], vendor_data="crm-7731")
    sid = body["session_id"]

    def both():
        seed, org = _seed_decision(api, sid), _decision(api, sid)
        assert (seed.status_code, seed.json()) == (org.status_code, org.json())
        return seed

    assert both().status_code == 409  # initialized
    phone.get(f"/api/v1/session/{sid}/information")
    assert both().status_code == 409  # retrieved
    csrf_post(phone, f"/api/v1/session/{sid}/update", {"decision": "confirmed", "accepted_scopes": ["last_name"]})
    confirmed = both()
    assert confirmed.status_code == 200
    assert confirmed.json() == {
        "session_id": sid,
        "status": "confirmed",
        "vendor_data": "crm-7731",
        "data": {"last_name": "García"},
    }
    later = timezone.now() + timedelta(minutes=5)
    with override_settings(SESSION_DATA_RETENTION_SECONDS=60), time_machine.travel(later, tick=False):
        assert sessions_purge_data() == 1
    assert both().status_code == 410


def test_the_seed_decision_path_shows_declined_and_expired_sessions_without_data(api, new_session, phone):
    declined = new_session(scopes=["first_name"], vendor_data="d-1")["session_id"]
    _answer(phone, declined, decision="declined", accepted=())
    expired = new_session(expires_in="PT30S", vendor_data="e-1")["session_id"]

    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=False):
        answers = {sid: _seed_decision(api, sid) for sid in (declined, expired)}

    assert answers[declined].json() == {
        "session_id": declined,
        "status": "declined",
        "vendor_data": "d-1",
        "data": None,
    }
    assert answers[expired].json() == {"session_id": expired, "status": "expired", "vendor_data": "e-1", "data": None}


def test_the_seed_decision_path_hides_other_organizations_and_unknown_sessions(new_session, outsider_api, api):
    sid = new_session()["session_id"]

    for client, session_id in ((outsider_api, sid), (api, uuid.uuid4())):
        response = _seed_decision(client, session_id)
        assert response.status_code == 404
        assert sid not in response.content.decode()


def test_the_seed_decision_path_needs_the_api_key_with_the_sessions_scope(org, make_client, new_session):
    body = new_session()
    sid = body["session_id"]

    assert _seed_decision(make_client(make_api_key(org, scopes=["identities"])), sid).status_code == 403
    assert _seed_decision(APIClient(), sid).status_code == 401
    token_only = APIClient().get(f"/api/v1/session/{sid}/decision", HTTP_X_SESSION_TOKEN=body["session_token"])
    assert token_only.status_code == 401


@override_settings(API_RATE_LIMIT="2/min")
def test_the_seed_decision_path_counts_against_the_keys_rate_limit(api, new_session):
    sid = new_session()["session_id"]  # the first request of the minute

    assert _seed_decision(api, sid).status_code == 409
    limited = _seed_decision(api, sid)
    assert limited.status_code == 429
    assert "Retry-After" in limited
