from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from apps.audit.models import Transition
from apps.identifications import sms
from apps.identifications.models import OtpIdentification, OtpMessage
from apps.organizations.models import DEFAULT_SCOPES, Scope
from tests.factories import make_api_key
from tests.identifications.conftest import BASE, body

pytestmark = pytest.mark.django_db


def _fields(response):
    return {e.get("field") for e in response.json()["errors"]}


# --- create ------------------------------------------------------------------------------


def test_it_creates_an_identification_and_emails_the_link(create):
    response = create()
    assert response.status_code == 201
    data = response.json()
    assert data["status"] == "CREATED"
    assert data["url"].startswith("http://testserver/identify/")
    assert data["two_factor_type"] == "DOCUMENT_NUMBER"
    assert data["channel"] == {"type": "EMAIL"}
    assert data["actor"]["document_number"] == "12345678Z"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    assert data["url"] in mail.outbox[0].body
    message = OtpMessage.objects.get(identification_id=data["id"])
    assert (message.kind, message.channel, message.status) == ("LINK", "EMAIL", "SENT")


def test_it_sends_the_link_by_sms_over_the_sms_backend(create):
    response = create(channel={"type": "SMS"})
    assert response.status_code == 201
    assert not mail.outbox
    assert [m.to for m in sms.outbox] == ["+34600111222"]
    assert response.json()["url"] in sms.outbox[0].body


def test_it_stores_personal_values_encrypted(create):
    import uuid

    from django.db import connection

    identification_id = create().json()["id"]
    db_id = OtpIdentification._meta.pk.get_db_prep_value(uuid.UUID(identification_id), connection)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT actor_name, actor_email, actor_phone, actor_document_number FROM identifications_otpidentification"
            " WHERE id = %s",
            [db_id],
        )
        row = cursor.fetchone()
    assert row is not None
    for value in row:
        assert value.startswith("gAAAA")


@pytest.mark.parametrize("expires_in", ["P31D", "PT0S", "-P1D", "P1M", "P5W", "garbage", "P30DT1S", ""])
def test_it_refuses_bad_durations_naming_expires_in(create, expires_in):
    response = create(expires_in=expires_in)
    assert response.status_code == 400
    assert _fields(response) == {"expires_in"}


def test_it_accepts_thirty_days_and_defaults_to_thirty_days(api):
    now = timezone.now()
    ok = api.post(BASE, body(expires_in="P30D"), format="json")
    assert ok.status_code == 201
    assert abs(parse_datetime(ok.json()["expires_at"]) - (now + timedelta(days=30))) < timedelta(seconds=5)

    data = body(actor={"name": "Bo", "surname": "Li", "email": "bo@example.com"}, two_factor_type=None)
    data.pop("expires_in")
    default = api.post(BASE, data, format="json")
    assert default.status_code == 201, default.json()
    assert abs(parse_datetime(default.json()["expires_at"]) - (now + timedelta(days=30))) < timedelta(seconds=5)


def test_it_accepts_hours(create):
    response = create(expires_in="PT2H")
    assert response.status_code == 201
    expires_at = parse_datetime(response.json()["expires_at"])
    assert abs(expires_at - (timezone.now() + timedelta(hours=2))) < timedelta(seconds=5)


def test_it_refuses_sms_without_a_phone(create):
    response = create(
        actor={"name": "Ana", "surname": "García", "email": "ana@example.com", "document_number": "1"},
        channel={"type": "SMS"},
    )
    assert response.status_code == 400
    assert _fields(response) == {"actor.phone"}


def test_it_refuses_email_channel_without_an_email(create):
    response = create(actor={"name": "Ana", "surname": "García", "phone": "+34600111222", "document_number": "1"})
    assert response.status_code == 400
    assert _fields(response) == {"actor.email"}


def test_it_refuses_a_document_factor_without_a_document_number(create):
    response = create(actor={"name": "Ana", "surname": "García", "email": "ana@example.com"})
    assert response.status_code == 400
    assert _fields(response) == {"actor.document_number"}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": {"type": "FAX"}}, "channel.type"),
        ({"two_factor_type": "FINGERPRINT"}, "two_factor_type"),
        ({"actor": {"surname": "García", "email": "ana@example.com"}}, "actor.name"),
        ({"status": "IDENTIFIED"}, "status"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_it_refuses_invalid_input_naming_the_field(create, overrides, field):
    response = create(**overrides)
    assert response.status_code == 400
    assert field in _fields(response)


def test_it_needs_an_api_key(client):
    response = client.post(BASE, body(), content_type="application/json")
    assert response.status_code == 401


def test_it_hides_other_organizations(outsider_api, created, api):
    assert outsider_api.post(BASE, body(), format="json").status_code == 404
    assert api.post("/api/v1/orgs/globex/identifications/otp", body(), format="json").status_code == 404
    one = f"/api/v1/orgs/globex/identifications/otp/{created['id']}"
    assert outsider_api.get(one).status_code == 404
    assert outsider_api.post(f"{one}/cancel", {"reason": "x"}, format="json").status_code == 404
    assert outsider_api.post(f"{one}/resend").status_code == 404
    assert outsider_api.delete(one).status_code == 404
    assert OtpIdentification.objects.get(pk=created["id"]).status == "CREATED"


def test_it_needs_the_identifications_scope(org, make_client, created):
    client = make_client(make_api_key(org, scopes=[Scope.PROCESSES]))
    one = f"{BASE}/{created['id']}"
    assert client.post(BASE, body(), format="json").status_code == 403
    assert client.get(one).status_code == 403
    assert client.post(f"{one}/cancel", {"reason": "x"}, format="json").status_code == 403
    assert client.post(f"{one}/resend").status_code == 403
    assert client.delete(one).status_code == 403


def test_it_refuses_a_second_open_identification_for_the_same_email(create, created):
    other_document = {"name": "Ana", "surname": "G", "email": "ANA@example.com ", "document_number": "99999999R"}
    response = create(actor=other_document)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "state_conflict"


def test_it_refuses_a_second_open_identification_for_the_same_document_number(create, created):
    other_email = {"name": "Ana", "surname": "G", "email": "other@example.com", "document_number": "12345678-z"}
    assert create(actor=other_email).status_code == 409


def test_it_allows_a_new_identification_once_the_first_is_final(api, create, created):
    assert api.post(f"{BASE}/{created['id']}/cancel", {"reason": "wrong person"}, format="json").status_code == 204
    assert create().status_code == 201


def test_it_allows_the_same_actor_in_another_organization(created, outsider_api):
    response = outsider_api.post("/api/v1/orgs/globex/identifications/otp", body(), format="json")
    assert response.status_code == 201


def test_it_allows_a_new_identification_once_the_first_expired(create, created):
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert create().status_code == 201
    assert OtpIdentification.objects.get(pk=created["id"]).status == "EXPIRED"


# --- get ----------------------------------------------------------------------------------


def test_it_gets_an_identification(api, created):
    response = api.get(f"{BASE}/{created['id']}")
    assert response.status_code == 200
    assert response.json()["id"] == created["id"]
    assert response.json()["status"] == "CREATED"


def test_it_answers_404_for_an_unknown_identification(api, org):
    unknown = "00000000-0000-0000-0000-000000000000"
    assert api.get(f"{BASE}/{unknown}").status_code == 404
    assert api.post(f"{BASE}/{unknown}/cancel", {"reason": "x"}, format="json").status_code == 404
    assert api.post(f"{BASE}/{unknown}/resend").status_code == 404
    assert api.delete(f"{BASE}/{unknown}").status_code == 404


def test_it_needs_a_key_for_every_operation(client, created):
    one = f"{BASE}/{created['id']}"
    assert client.get(one).status_code == 401
    assert client.post(f"{one}/cancel", {"reason": "x"}, content_type="application/json").status_code == 401
    assert client.post(f"{one}/resend").status_code == 401
    assert client.delete(one).status_code == 401


# --- cancel -------------------------------------------------------------------------------


def test_it_cancels_with_a_reason_and_answers_204(api, created):
    response = api.post(f"{BASE}/{created['id']}/cancel", {"reason": "customer called"}, format="json")
    assert response.status_code == 204
    assert response.content == b""
    identification = OtpIdentification.objects.get(pk=created["id"])
    assert identification.status == "CANCELED"
    assert identification.cancel_reason == "customer called"
    assert api.get(f"{BASE}/{created['id']}").json()["cancel_reason"] == "customer called"


@pytest.mark.parametrize("payload", [{}, {"reason": ""}, {"reason": None}])
def test_it_refuses_a_cancel_without_a_reason(api, created, payload):
    response = api.post(f"{BASE}/{created['id']}/cancel", payload, format="json")
    assert response.status_code == 400
    assert _fields(response) == {"reason"}
    assert OtpIdentification.objects.get(pk=created["id"]).status == "CREATED"


def test_it_refuses_to_cancel_a_final_identification(api, created):
    assert api.post(f"{BASE}/{created['id']}/cancel", {"reason": "one"}, format="json").status_code == 204
    response = api.post(f"{BASE}/{created['id']}/cancel", {"reason": "two"}, format="json")
    assert response.status_code == 409
    assert OtpIdentification.objects.get(pk=created["id"]).cancel_reason == "one"


# --- resend -------------------------------------------------------------------------------


def test_it_resends_the_link(api, created):
    response = api.post(f"{BASE}/{created['id']}/resend")
    assert response.status_code == 204
    assert response.content == b""
    assert len(mail.outbox) == 2
    assert created["url"] in mail.outbox[1].body


def test_it_refuses_to_resend_a_final_identification(api, created):
    api.post(f"{BASE}/{created['id']}/cancel", {"reason": "x"}, format="json")
    assert api.post(f"{BASE}/{created['id']}/resend").status_code == 409
    assert len(mail.outbox) == 1


# --- delete -------------------------------------------------------------------------------


def _key(org, make_client, *, force_scope: bool):
    scopes = [*DEFAULT_SCOPES, Scope.IDENTIFICATIONS_FORCE_DELETE] if force_scope else list(DEFAULT_SCOPES)
    return make_client(make_api_key(org, scopes=scopes))


def _start(identification_id):
    """The actor's first code request moves CREATED → IN_PROGRESS."""
    from apps.identifications.services import identification_send_code

    identification_send_code(identification=OtpIdentification.objects.get(pk=identification_id))


@pytest.mark.parametrize(
    ("state", "force", "force_scope", "expected"),
    [
        ("CREATED", None, False, 204),
        ("CREATED", "false", False, 204),
        ("CREATED", "true", False, 204),
        ("IN_PROGRESS", None, False, 403),
        ("IN_PROGRESS", "false", True, 403),
        ("IN_PROGRESS", None, True, 403),
        ("IN_PROGRESS", "true", False, 403),
        ("IN_PROGRESS", "true", True, 204),
        ("CANCELED", "true", False, 403),
        ("CANCELED", "true", True, 204),
    ],
)
def test_it_deletes_per_the_force_and_scope_matrix(org, make_client, api, created, state, force, force_scope, expected):
    if state == "IN_PROGRESS":
        _start(created["id"])
    elif state == "CANCELED":
        api.post(f"{BASE}/{created['id']}/cancel", {"reason": "x"}, format="json")
    client = _key(org, make_client, force_scope=force_scope)
    url = f"{BASE}/{created['id']}" + (f"?force={force}" if force else "")
    response = client.delete(url)
    assert response.status_code == expected
    assert OtpIdentification.objects.filter(pk=created["id"]).exists() == (expected != 204)
    if expected == 204:
        assert response.content == b""
        assert Transition.objects.filter(object_id=created["id"], to_state="DELETED").exists()


def test_it_refuses_a_malformed_force_value(api, created):
    response = api.delete(f"{BASE}/{created['id']}?force=yes")
    assert response.status_code == 400
    assert _fields(response) == {"force"}


# --- audit --------------------------------------------------------------------------------


def test_it_writes_an_audit_row_and_event_per_transition(api, created):
    api.post(f"{BASE}/{created['id']}/cancel", {"reason": "customer called"}, format="json")
    rows = list(Transition.objects.filter(object_id=created["id"]).order_by("id"))
    assert [(r.from_state, r.to_state) for r in rows] == [("", "CREATED"), ("CREATED", "CANCELED")]
    assert {r.event_type for r in rows} == {"identification.status_changed"}
    assert rows[1].reason == "customer called"
    assert rows[1].actor_type == "api_key"
    assert rows[1].data["status"] == "CANCELED"


def test_it_publishes_the_status_change_to_webhooks(api, created, org):
    from apps.webhooks.events import event_data

    api.post(f"{BASE}/{created['id']}/cancel", {"reason": "customer called"}, format="json")
    row = Transition.objects.get(object_id=created["id"], to_state="CANCELED")
    data = event_data(row)
    assert data == {
        "id": created["id"],
        "status": "CANCELED",
        "previous_status": "CREATED",
        "two_factor_type": "DOCUMENT_NUMBER",
        "channel": "EMAIL",
        "reason": "customer called",
    }
