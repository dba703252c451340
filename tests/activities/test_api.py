"""The integrator API for activities (API.md "Activities", seed 000)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from apps.activities.models import Activity, ActivityStatus, ActivityType, ConsentReceipt, SharedSnapshot
from apps.activities.services import activity_revoke
from apps.audit.models import Transition
from apps.audit.services import Actor, transition_apply
from apps.organizations.models import Scope
from apps.people.services import person_set_details
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_create, process_replay_sample
from tests.activities.conftest import BASE, INITIATOR_DETAILS, RECEPTOR_DETAILS, make_party
from tests.factories import make_api_key, make_identity

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SHAPE = {
    "id",
    "type",
    "status",
    "initiator_id",
    "receptor_id",
    "requirements",
    "purpose",
    "valid_until",
    "sharing_until",
    "created_at",
    "updated_at",
}
SHOWN = {"SENT", "ACTION_REQUIRED", "ACCEPTED", "DECLINED", "CANCELED", "EXPIRED", "COMPLETED"}
REQUIREMENTS = [{"detail": "first_name", "required": True}, {"detail": "date_of_birth", "required": False}]


def _fields(response) -> list[str | None]:
    return [item.get("field") for item in response.json()["errors"]]


def _ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _payload(type: str, initiator, receptor, **extra) -> dict:
    by_type = {
        "AT_001": {"requirements": REQUIREMENTS},
        "AT_002": {"offered_details": ["first_name", "phone"], "sharing_period": "P30D"},
        "AT_003": {"requirements": [{"detail": "first_name", "required": True}], "offered_details": ["email"]},
        "AT_004": {"authorization": {"description": "Transfer 500 EUR to NL01BANK"}},
    }
    body = {
        "type": type,
        "initiator_id": str(initiator.pk),
        "receptor_id": str(receptor.pk),
        "purpose": "Open an account",
        **by_type[type],
        **extra,
    }
    return {k: v for k, v in body.items() if v is not None}


def _create(api, type: str, initiator, receptor, **extra) -> dict:
    response = api.post(BASE, _payload(type, initiator, receptor, **extra), format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def _accept(api, activity_id, **body):
    return api.post(f"{BASE}/{activity_id}/accept", body, format="json")


def _details(api, activity_id, party: str):
    return api.get(f"{BASE}/{activity_id}/details", {"as": party})


def _activity_transitions():
    return Transition.objects.filter(event_type=Activity.EVENT_TYPE)


def _assert_nothing_created() -> None:
    assert not Activity.objects.exists()
    assert not SharedSnapshot.objects.exists()
    assert not ConsentReceipt.objects.exists()
    assert not _activity_transitions().exists()


@pytest.fixture
def scopeless_api(org, make_client):
    return make_client(make_api_key(org, scopes=[Scope.IDENTITIES]))


# --- Create ---------------------------------------------------------------------------------


def test_it_creates_a_request_as_the_initiator_sees_it(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        body = _create(api, "AT_001", initiator, receptor)

    assert set(body) >= SHAPE
    assert body["type"] == "AT_001"
    assert body["status"] == "SENT"
    assert (body["initiator_id"], body["receptor_id"]) == (str(initiator.pk), str(receptor.pk))
    assert body["requirements"] == REQUIREMENTS
    assert body["purpose"] == "Open an account"
    assert body["valid_until"] == _ts(START + timedelta(days=7))  # the default P7D
    assert body["sharing_until"] is None
    assert body["created_at"] == body["updated_at"] == _ts(START)
    activity = Activity.objects.get(pk=body["id"])
    assert activity.status == ActivityStatus.PENDING
    row = _activity_transitions().get(object_id=body["id"])
    assert (row.from_state, row.to_state, row.reason, row.actor_type) == ("", "PENDING", "created", "api_key")


def test_it_creates_a_share_already_accepted_for_the_sharing_period(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        body = _create(api, "AT_002", initiator, receptor, sharing_period="P30D")

    assert body["status"] == "ACCEPTED"
    assert body["sharing_until"] == _ts(START + timedelta(days=30))
    assert api.get(f"{BASE}/{body['id']}", {"as": "receptor"}).json()["status"] == "ACCEPTED"
    assert Activity.objects.get(pk=body["id"]).status == ActivityStatus.ACCEPTED
    assert _activity_transitions().get(object_id=body["id"]).to_state == "ACCEPTED"


def test_it_creates_a_swap_and_an_authorization_pending(api, initiator, receptor):
    swap = _create(api, "AT_003", initiator, receptor)
    authorization = _create(api, "AT_004", initiator, receptor)

    assert swap["status"] == authorization["status"] == "SENT"
    assert swap["sharing_until"] is None and authorization["sharing_until"] is None
    assert Activity.objects.get(pk=swap["id"]).offered_details == ["email"]
    assert Activity.objects.get(pk=authorization["id"]).authorization == {
        "description": "Transfer 500 EUR to NL01BANK",
        "requires_bioface": False,
    }


def test_it_creates_with_a_trailing_slash_too(api, initiator, receptor):
    response = api.post(f"{BASE}/", _payload("AT_001", initiator, receptor), format="json")
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("valid_for", "delta"),
    [("PT1S", timedelta(seconds=1)), ("P90D", timedelta(days=90)), ("P1DT2H", timedelta(days=1, hours=2))],
)
def test_it_takes_valid_for_within_its_bounds(api, initiator, receptor, valid_for, delta):
    with time_machine.travel(START, tick=False):
        body = _create(api, "AT_001", initiator, receptor, valid_for=valid_for)
    assert body["valid_until"] == _ts(START + delta)


@pytest.mark.parametrize("value", ["P91D", "PT0S", "P0D", "P1Y", "P1M", "P13W", "-P1D", "P-1D", "1 day", "", "PT", 7])
def test_it_refuses_a_bad_valid_for_naming_the_field(api, initiator, receptor, value):
    response = api.post(BASE, _payload("AT_001", initiator, receptor, valid_for=value), format="json")

    assert response.status_code == 400
    assert _fields(response) == ["valid_for"]
    _assert_nothing_created()


@pytest.mark.parametrize("value", ["P3651D", "PT0S", "P10Y", "P522W", "tomorrow"])
def test_it_refuses_a_bad_sharing_period_naming_the_field(api, initiator, receptor, value):
    response = api.post(BASE, _payload("AT_002", initiator, receptor, sharing_period=value), format="json")

    assert response.status_code == 400
    assert _fields(response) == ["sharing_period"]
    _assert_nothing_created()


def test_it_takes_the_longest_sharing_period(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        body = _create(api, "AT_002", initiator, receptor, sharing_period="P3650D")
    assert body["sharing_until"] == _ts(START + timedelta(days=3650))


@pytest.mark.parametrize(
    ("type", "extra", "field"),
    [
        ("AT_001", {"requirements": [{"detail": "shoe_size", "required": True}]}, "requirements[0].detail"),
        ("AT_002", {"offered_details": ["first_name", "shoe_size"]}, "offered_details[1]"),
        ("AT_003", {"offered_details": ["favourite_colour"]}, "offered_details[0]"),
    ],
)
def test_it_refuses_detail_names_outside_the_vocabulary(api, initiator, receptor, type, extra, field):
    response = api.post(BASE, _payload(type, initiator, receptor, **extra), format="json")

    assert response.status_code == 400
    assert _fields(response) == [field]
    _assert_nothing_created()


@pytest.mark.parametrize(
    ("type", "extra", "field"),
    [
        (
            "AT_001",
            {"requirements": [{"detail": "first_name", "required": True}, {"detail": "first_name", "required": False}]},
            "requirements",
        ),
        ("AT_002", {"offered_details": ["phone", "phone"]}, "offered_details"),
    ],
)
def test_it_refuses_duplicate_details(api, initiator, receptor, type, extra, field):
    response = api.post(BASE, _payload(type, initiator, receptor, **extra), format="json")

    assert response.status_code == 400
    assert _fields(response) == [field]
    _assert_nothing_created()


@pytest.mark.parametrize(
    ("type", "extra", "field"),
    [
        ("AT_001", {"requirements": None}, "requirements"),
        ("AT_001", {"requirements": []}, "requirements"),
        ("AT_001", {"offered_details": ["email"]}, "offered_details"),
        ("AT_001", {"sharing_period": "P30D"}, "sharing_period"),
        ("AT_001", {"authorization": {"description": "Pay"}}, "authorization"),
        ("AT_002", {"offered_details": None}, "offered_details"),
        ("AT_002", {"sharing_period": None}, "sharing_period"),
        ("AT_002", {"requirements": REQUIREMENTS}, "requirements"),
        ("AT_003", {"offered_details": None}, "offered_details"),
        ("AT_003", {"requirements": None}, "requirements"),
        ("AT_003", {"sharing_period": "P30D"}, "sharing_period"),
        ("AT_004", {"authorization": None}, "authorization"),
        ("AT_004", {"requirements": REQUIREMENTS}, "requirements"),
        ("AT_004", {"offered_details": ["email"]}, "offered_details"),
        ("AT_004", {"authorization": {"requires_bioface": True}}, "authorization.description"),
    ],
)
def test_it_refuses_what_does_not_fit_the_type(api, initiator, receptor, type, extra, field):
    response = api.post(BASE, _payload(type, initiator, receptor, **extra), format="json")

    assert response.status_code == 400
    assert field in _fields(response)
    _assert_nothing_created()


@pytest.mark.parametrize(
    "extra",
    [
        {"type": "AT_005"},
        {"type": "PENDING"},
        {"status": "ACCEPTED"},
        {"id": "5f0c6a3e-8d2b-4b7e-9a41-0c3d2e1f4a5b"},
        {"colour": "red"},
    ],
)
def test_it_refuses_unknown_types_and_server_fields(api, initiator, receptor, extra):
    response = api.post(BASE, {**_payload("AT_001", initiator, receptor), **extra}, format="json")

    assert response.status_code == 400
    assert _fields(response) == [next(iter(extra))]
    _assert_nothing_created()


def test_it_refuses_an_activity_with_oneself(api, initiator):
    response = api.post(BASE, _payload("AT_001", initiator, initiator), format="json")

    assert response.status_code == 400
    assert _fields(response) == ["receptor_id"]
    _assert_nothing_created()


@pytest.mark.parametrize("side", ["initiator", "receptor"])
def test_it_refuses_an_identity_of_another_organization(api, other_org, initiator, receptor, side):
    stranger = make_party(other_org, "zoe@example.com", first_name="Zoe")
    parties = {"initiator": initiator, "receptor": receptor, side: stranger}
    response = api.post(BASE, _payload("AT_001", parties["initiator"], parties["receptor"]), format="json")

    assert response.status_code == 400
    assert _fields(response) == [f"{side}_id"]
    _assert_nothing_created()


def test_it_refuses_an_identity_that_does_not_exist(api, initiator):
    body = _payload("AT_001", initiator, initiator, receptor_id=str(uuid.uuid4()))
    response = api.post(BASE, body, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["receptor_id"]


@pytest.mark.parametrize("side", ["initiator", "receptor"])
@pytest.mark.parametrize("state", ["INVITED", "DEACTIVATED"])
def test_it_refuses_a_party_that_is_not_active(api, org, initiator, receptor, side, state):
    other = make_identity(org, email="ivo@example.com", first_name="Ivo")
    if state == "DEACTIVATED":
        other = transition_apply(
            make_party(org, "dirk@example.com", first_name="Dirk"), "deactivate", actor=Actor.system("test")
        )
    parties = {"initiator": initiator, "receptor": receptor, side: other}
    response = api.post(BASE, _payload("AT_001", parties["initiator"], parties["receptor"]), format="json")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "state_conflict"
    _assert_nothing_created()


def test_it_refuses_a_share_of_a_detail_the_initiator_has_no_value_for(api, initiator, receptor):
    # The receptor's person has no phone: offered as initiator, there is nothing to snapshot.
    response = api.post(BASE, _payload("AT_002", receptor, initiator), format="json")

    assert response.status_code == 400
    assert _fields(response) == ["offered_details"]
    _assert_nothing_created()


# --- SENT / ACTION_REQUIRED ---------------------------------------------------------------------


def test_it_shows_pending_as_sent_to_the_initiator_and_action_required_to_the_receptor(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]

    assert api.get(f"{BASE}/{activity_id}").json()["status"] == "SENT"
    assert api.get(f"{BASE}/{activity_id}", {"as": "initiator"}).json()["status"] == "SENT"
    assert api.get(f"{BASE}/{activity_id}", {"as": "receptor"}).json()["status"] == "ACTION_REQUIRED"
    assert [a["status"] for a in api.get(BASE).json()["results"]] == ["SENT"]
    assert [a["status"] for a in api.get(BASE, {"as": "initiator"}).json()["results"]] == ["SENT"]
    assert [a["status"] for a in api.get(BASE, {"as": "receptor"}).json()["results"]] == ["ACTION_REQUIRED"]


def test_it_never_shows_the_initiator_action_required_nor_the_receptor_sent(api, initiator, receptor):
    _create(api, "AT_001", initiator, receptor)

    for party, foreign in (("initiator", "ACTION_REQUIRED"), ("receptor", "SENT")):
        statuses = [a["status"] for a in api.get(BASE, {"as": party, "status": foreign}).json()["results"]]
        assert foreign not in statuses
    assert [a["status"] for a in api.get(BASE, {"status": "SENT"}).json()["results"]] == ["SENT"]
    assert [a["status"] for a in api.get(BASE, {"status": "ACTION_REQUIRED"}).json()["results"]] == ["ACTION_REQUIRED"]


def test_it_shows_other_statuses_the_same_to_both_parties(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    _accept(api, activity_id, sharing_period="P30D")

    for party in ("initiator", "receptor"):
        assert api.get(f"{BASE}/{activity_id}", {"as": party}).json()["status"] == "ACCEPTED"


def test_it_refuses_an_unknown_party_view(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]

    assert api.get(f"{BASE}/{activity_id}", {"as": "bystander"}).status_code == 400
    assert api.get(BASE, {"as": "bystander"}).status_code == 400


def test_it_never_says_pending_in_responses_or_events(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    withdrawn_id = _create(api, "AT_003", initiator, receptor)["id"]
    responses = [
        api.get(f"{BASE}/{activity_id}", {"as": "initiator"}),
        api.get(f"{BASE}/{activity_id}", {"as": "receptor"}),
        api.get(BASE, {"as": "initiator"}),
        api.get(BASE, {"as": "receptor"}),
        _details(api, activity_id, "receptor"),
        api.post(f"{BASE}/{withdrawn_id}/withdraw"),
        _accept(api, activity_id, sharing_period="P1D"),
    ]
    for response in responses:
        assert b"PENDING" not in response.content

    created = _activity_transitions().get(object_id=activity_id, reason="created")
    assert created.data["initiator_status"] == "SENT"
    assert created.data["receptor_status"] == "ACTION_REQUIRED"
    accepted = _activity_transitions().get(object_id=activity_id, to_state="ACCEPTED")
    assert accepted.data["initiator_status"] == accepted.data["receptor_status"] == "ACCEPTED"
    for row in _activity_transitions():
        assert "PENDING" not in row.data.values()


def test_it_shows_an_overdue_pending_activity_as_canceled_before_the_sweep(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        activity_id = _create(api, "AT_001", initiator, receptor, valid_for="PT1H")["id"]
    with time_machine.travel(START + timedelta(hours=1, seconds=1), tick=False):
        assert api.get(f"{BASE}/{activity_id}").json()["status"] == "CANCELED"
        assert api.get(f"{BASE}/{activity_id}", {"as": "receptor"}).json()["status"] == "CANCELED"
        assert api.get(BASE, {"status": "CANCELED"}).json()["results"][0]["id"] == activity_id
        assert api.get(BASE, {"status": "SENT"}).json()["results"] == []
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING  # no sweep ran


# --- List ----------------------------------------------------------------------------------


def test_it_lists_in_pages(api, initiator, receptor):
    _create(api, "AT_001", initiator, receptor)
    response = api.get(BASE, {"page_size": 1})
    _create(api, "AT_004", initiator, receptor)

    assert response.status_code == 200
    assert set(response.json()) == {"results", "next", "previous"}
    first = api.get(BASE, {"page_size": 1}).json()
    assert len(first["results"]) == 1 and first["next"]
    second = api.get(first["next"]).json()
    assert {first["results"][0]["id"], second["results"][0]["id"]} == set(
        str(pk) for pk in Activity.objects.values_list("pk", flat=True)
    )
    for item in first["results"] + second["results"]:
        assert set(item) >= SHAPE


def test_it_filters_the_list_by_status(api, org, initiator, receptor):
    pending = _create(api, "AT_001", initiator, receptor)["id"]
    shared = _create(api, "AT_002", initiator, receptor)["id"]
    declined = _create(api, "AT_004", initiator, receptor)["id"]
    withdrawn = _create(api, "AT_003", initiator, receptor)["id"]
    api.post(f"{BASE}/{declined}/decline")
    api.post(f"{BASE}/{withdrawn}/withdraw")

    def ids(**query) -> set[str]:
        response = api.get(BASE, query)
        assert response.status_code == 200
        return {a["id"] for a in response.json()["results"]}

    assert ids(status="SENT") == {pending}
    assert ids(status="ACTION_REQUIRED", **{"as": "receptor"}) == {pending}
    assert ids(status="ACCEPTED") == {shared}
    assert ids(status="DECLINED") == {declined}
    assert ids(status="CANCELED") == {withdrawn}
    assert ids(status="EXPIRED") == set()
    assert ids(status="COMPLETED") == set()
    assert api.get(BASE, {"status": "PENDING"}).status_code == 400


def test_it_filters_the_list_by_type_and_party(api, org, initiator, receptor):
    third = make_party(org, "lea@example.com", first_name="Lea", last_name="Vos", email="lea@example.com")
    request = _create(api, "AT_001", initiator, receptor)["id"]
    reverse = _create(api, "AT_004", receptor, initiator)["id"]
    unrelated = _create(api, "AT_004", third, receptor)["id"]

    def ids(**query) -> set[str]:
        response = api.get(BASE, query)
        assert response.status_code == 200
        return {a["id"] for a in response.json()["results"]}

    assert ids(type="AT_001") == {request}
    assert ids(type="AT_004") == {reverse, unrelated}
    assert ids(party_id=str(initiator.pk)) == {request, reverse}
    assert ids(party_id=str(third.pk)) == {unrelated}
    assert ids(party_id=str(initiator.pk), **{"as": "initiator"}) == {request}
    assert ids(party_id=str(initiator.pk), **{"as": "receptor"}) == {reverse}
    assert ids(party_id=str(receptor.pk), type="AT_004") == {reverse, unrelated}
    assert api.get(BASE, {"type": "AT_009"}).status_code == 400
    assert api.get(BASE, {"party_id": "nobody"}).status_code == 400


# --- Accept ----------------------------------------------------------------------------------


def test_it_accepts_every_requested_detail(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        activity_id = _create(api, "AT_001", initiator, receptor)["id"]
        response = _accept(api, activity_id, sharing_period="P30D")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ACCEPTED"
    assert body["sharing_until"] == _ts(START + timedelta(days=30))
    assert body["accepted_details"] == ["first_name", "date_of_birth"]
    received = _details(api, activity_id, "initiator").json()["received"]
    assert received == {"first_name": "Eva", "date_of_birth": "1985-12-24"}
    row = _activity_transitions().get(object_id=activity_id, to_state="ACCEPTED")
    assert (row.from_state, row.reason, row.actor_type) == ("PENDING", "accepted", "api_key")


def test_it_accepts_part_of_the_request(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    response = _accept(api, activity_id, accepted_details=["first_name"], sharing_period="P1D")

    assert response.status_code == 200
    assert response.json()["accepted_details"] == ["first_name"]
    assert _details(api, activity_id, "initiator").json()["received"] == {"first_name": "Eva"}


def test_it_refuses_to_leave_out_a_required_detail(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    response = _accept(api, activity_id, accepted_details=["date_of_birth"], sharing_period="P1D")

    assert response.status_code == 400
    assert _fields(response) == ["accepted_details"]
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING
    assert not SharedSnapshot.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"accepted_details": ["first_name", "address"], "sharing_period": "P1D"}, "accepted_details"),
        ({"accepted_details": ["first_name", "shoe_size"], "sharing_period": "P1D"}, "accepted_details[1]"),
        ({"accepted_details": ["first_name", "first_name"], "sharing_period": "P1D"}, "accepted_details"),
        ({"accepted_details": ["first_name"]}, "sharing_period"),
        ({}, "sharing_period"),
        ({"accepted_details": ["first_name"], "sharing_period": "P3651D"}, "sharing_period"),
        ({"accepted_details": ["first_name"], "sharing_period": "P1M"}, "sharing_period"),
        ({"accepted_details": ["first_name"], "sharing_period": "P1D", "as": "receptor"}, "as"),
    ],
)
def test_it_refuses_an_acceptance_that_does_not_fit_the_request(api, initiator, receptor, body, field):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    response = _accept(api, activity_id, **body)

    assert response.status_code == 400
    assert _fields(response) == [field]
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING
    assert not ConsentReceipt.objects.exists()


def test_it_refuses_to_share_a_detail_the_receptor_has_no_value_for(api, initiator, receptor):
    requirements = [{"detail": "first_name", "required": True}, {"detail": "phone", "required": False}]
    activity_id = _create(api, "AT_001", initiator, receptor, requirements=requirements)["id"]
    response = _accept(api, activity_id, sharing_period="P1D")

    assert response.status_code == 400
    assert _fields(response) == ["accepted_details"]
    assert "phone" in response.json()["errors"][0]["message"]
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING
    assert not SharedSnapshot.objects.exists()
    assert not ConsentReceipt.objects.exists()
    assert not _activity_transitions().filter(to_state="ACCEPTED").exists()
    # Leaving the optional detail out works.
    assert _accept(api, activity_id, accepted_details=["first_name"], sharing_period="P1D").status_code == 200


def test_it_refuses_acceptance_after_valid_until_even_before_the_sweep(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        activity_id = _create(api, "AT_001", initiator, receptor, valid_for="PT10M")["id"]
    with time_machine.travel(START + timedelta(minutes=10, seconds=1), tick=False):
        response = _accept(api, activity_id, sharing_period="P1D")

    assert response.status_code == 409
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING
    assert not SharedSnapshot.objects.exists()


def test_it_accepts_just_before_valid_until(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        activity_id = _create(api, "AT_001", initiator, receptor, valid_for="PT10M")["id"]
    with time_machine.travel(START + timedelta(minutes=9, seconds=59), tick=False):
        assert _accept(api, activity_id, sharing_period="P1D").status_code == 200


def test_it_refuses_to_accept_twice(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    assert _accept(api, activity_id, sharing_period="P1D").status_code == 200

    assert _accept(api, activity_id, sharing_period="P2D").status_code == 409
    # The state forbids it whatever the body says.
    assert _accept(api, activity_id).status_code == 409
    assert Activity.objects.get(pk=activity_id).sharing_period == timedelta(days=1)
    assert SharedSnapshot.objects.count() == 1
    assert _activity_transitions().filter(object_id=activity_id, to_state="ACCEPTED").count() == 1


def test_it_refuses_to_accept_a_share_or_a_declined_activity(api, initiator, receptor):
    share_id = _create(api, "AT_002", initiator, receptor)["id"]
    declined_id = _create(api, "AT_001", initiator, receptor)["id"]
    api.post(f"{BASE}/{declined_id}/decline")

    assert _accept(api, share_id, sharing_period="P1D").status_code == 409
    assert _accept(api, declined_id, sharing_period="P1D").status_code == 409
    assert Activity.objects.get(pk=declined_id).status == ActivityStatus.DECLINED


def test_it_accepts_a_swap_in_part_and_shares_both_ways(api, initiator, receptor):
    requirements = [{"detail": "first_name", "required": True}, {"detail": "nationality", "required": False}]
    activity_id = _create(
        api, "AT_003", initiator, receptor, requirements=requirements, offered_details=["email", "phone"]
    )["id"]
    response = _accept(api, activity_id, accepted_details=["first_name"], sharing_period="P7D")

    assert response.status_code == 200
    initiator_view = _details(api, activity_id, "initiator").json()
    receptor_view = _details(api, activity_id, "receptor").json()
    assert initiator_view["received"] == receptor_view["given"] == {"first_name": "Eva"}
    assert receptor_view["received"] == initiator_view["given"] == {"email": "ana@example.com", "phone": "+34600000001"}


def test_it_approves_an_authorization_without_bioface(api, initiator, receptor):
    activity_id = _create(api, "AT_004", initiator, receptor)["id"]
    response = _accept(api, activity_id)

    assert response.status_code == 200
    assert response.json()["status"] == "ACCEPTED"
    assert (
        _accept(api, _create(api, "AT_004", initiator, receptor)["id"], accepted_details=["first_name"]).status_code
        == 400
    )


# --- Decline, withdraw, complete ----------------------------------------------------------------


def test_it_declines(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    response = api.post(f"{BASE}/{activity_id}/decline")

    assert response.status_code == 200
    assert response.json()["status"] == "DECLINED"
    assert api.get(f"{BASE}/{activity_id}").json()["status"] == "DECLINED"
    row = _activity_transitions().get(object_id=activity_id, to_state="DECLINED")
    assert (row.from_state, row.reason) == ("PENDING", "declined")
    assert row.data["initiator_status"] == row.data["receptor_status"] == "DECLINED"
    assert api.post(f"{BASE}/{activity_id}/decline").status_code == 409
    assert not SharedSnapshot.objects.exists() and not ConsentReceipt.objects.exists()


def test_it_refuses_to_decline_after_valid_until_or_a_share(api, initiator, receptor):
    share_id = _create(api, "AT_002", initiator, receptor)["id"]
    with time_machine.travel(START, tick=False):
        activity_id = _create(api, "AT_004", initiator, receptor, valid_for="PT1S")["id"]
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        assert api.post(f"{BASE}/{activity_id}/decline").status_code == 409
    assert api.post(f"{BASE}/{share_id}/decline").status_code == 409
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING


def test_it_withdraws_a_pending_activity(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    response = api.post(f"{BASE}/{activity_id}/withdraw")

    assert response.status_code == 200
    assert response.json()["status"] == "CANCELED"
    assert api.get(f"{BASE}/{activity_id}", {"as": "receptor"}).json()["status"] == "CANCELED"
    row = _activity_transitions().get(object_id=activity_id, to_state="CANCELED")
    assert (row.from_state, row.reason) == ("PENDING", "withdrawn")
    assert api.post(f"{BASE}/{activity_id}/withdraw").status_code == 409


def test_it_refuses_to_withdraw_once_answered(api, initiator, receptor):
    accepted_id = _create(api, "AT_001", initiator, receptor)["id"]
    _accept(api, accepted_id, sharing_period="P1D")
    share_id = _create(api, "AT_002", initiator, receptor)["id"]

    assert api.post(f"{BASE}/{accepted_id}/withdraw").status_code == 409
    assert api.post(f"{BASE}/{share_id}/withdraw").status_code == 409
    assert Activity.objects.get(pk=accepted_id).status == ActivityStatus.ACCEPTED


@pytest.mark.parametrize("first", ["initiator", "receptor"])
def test_it_completes_when_both_parties_have_finalized(api, initiator, receptor, first):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    _accept(api, activity_id, sharing_period="P30D")
    second = "receptor" if first == "initiator" else "initiator"

    response = api.post(f"{BASE}/{activity_id}/complete", {"as": first}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "ACCEPTED"
    # Finalizing again changes nothing.
    assert api.post(f"{BASE}/{activity_id}/complete", {"as": first}, format="json").json()["status"] == "ACCEPTED"
    assert not _activity_transitions().filter(object_id=activity_id, to_state="COMPLETED").exists()

    response = api.post(f"{BASE}/{activity_id}/complete", {"as": second}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "COMPLETED"
    row = _activity_transitions().get(object_id=activity_id, to_state="COMPLETED")
    assert row.from_state == "ACCEPTED"
    # The sharing goes on while COMPLETED.
    assert _details(api, activity_id, "initiator").json()["received"] == {
        "first_name": "Eva",
        "date_of_birth": "1985-12-24",
    }
    assert api.post(f"{BASE}/{activity_id}/complete", {"as": first}, format="json").status_code == 409


def test_it_refuses_to_complete_what_is_not_accepted(api, initiator, receptor):
    pending_id = _create(api, "AT_001", initiator, receptor)["id"]
    declined_id = _create(api, "AT_004", initiator, receptor)["id"]
    api.post(f"{BASE}/{declined_id}/decline")
    with time_machine.travel(START, tick=False):
        share_id = _create(api, "AT_002", initiator, receptor, sharing_period="PT1H")["id"]

    assert api.post(f"{BASE}/{pending_id}/complete", {"as": "initiator"}, format="json").status_code == 409
    assert api.post(f"{BASE}/{declined_id}/complete", {"as": "receptor"}, format="json").status_code == 409
    with time_machine.travel(START + timedelta(hours=2), tick=False):
        assert api.post(f"{BASE}/{share_id}/complete", {"as": "receptor"}, format="json").status_code == 409
    assert Activity.objects.get(pk=share_id).receptor_completed_at is None


@pytest.mark.parametrize("body", [{}, {"as": "bystander"}])
def test_it_needs_the_party_that_completes(api, initiator, receptor, body):
    activity_id = _create(api, "AT_002", initiator, receptor)["id"]
    response = api.post(f"{BASE}/{activity_id}/complete", body, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["as"]


# --- Details ---------------------------------------------------------------------------------


def test_it_gives_the_details_of_a_request_to_each_party(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        activity_id = _create(api, "AT_001", initiator, receptor)["id"]
        _accept(api, activity_id, sharing_period="P30D")
        initiator_view = _details(api, activity_id, "initiator")
        receptor_view = _details(api, activity_id, "receptor")

    assert initiator_view.status_code == receptor_view.status_code == 200
    assert initiator_view.json() == {
        "activity_id": activity_id,
        "status": "ACCEPTED",
        "sharing_until": _ts(START + timedelta(days=30)),
        "received": {"first_name": "Eva", "date_of_birth": "1985-12-24"},
        "given": {},
    }
    assert receptor_view.json()["received"] == {}
    assert receptor_view.json()["given"] == {"first_name": "Eva", "date_of_birth": "1985-12-24"}


def test_it_gives_a_share_to_the_receptor(api, initiator, receptor):
    activity_id = _create(api, "AT_002", initiator, receptor)["id"]

    receptor_view = _details(api, activity_id, "receptor").json()
    initiator_view = _details(api, activity_id, "initiator").json()
    assert receptor_view["received"] == initiator_view["given"] == {"first_name": "Ana", "phone": "+34600000001"}
    assert receptor_view["given"] == initiator_view["received"] == {}


def test_it_shares_nothing_for_an_authorization(api, initiator, receptor):
    activity_id = _create(api, "AT_004", initiator, receptor)["id"]
    _accept(api, activity_id)

    for party in ("initiator", "receptor"):
        body = _details(api, activity_id, party).json()
        assert (body["received"], body["given"]) == ({}, {})
    assert not SharedSnapshot.objects.exists()


def test_it_keeps_the_values_as_they_were_at_acceptance(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    _accept(api, activity_id, sharing_period="P30D")
    person_set_details(person=receptor.person, details={"first_name": "Evelien"})

    assert _details(api, activity_id, "initiator").json()["received"]["first_name"] == "Eva"


def test_it_keeps_the_shared_values_encrypted_at_rest(api, initiator, receptor):
    activity_id = _create(api, "AT_003", initiator, receptor)["id"]
    _accept(api, activity_id, sharing_period="P30D")

    with connection.cursor() as cursor:
        cursor.execute('SELECT "values" FROM activities_sharedsnapshot')
        stored = [row[0] for row in cursor.fetchall()]
    assert len(stored) == 2
    for raw in stored:
        for plaintext in ("Eva", "ana@example.com", "first_name", "email"):
            assert plaintext not in raw


def test_it_answers_409_for_details_before_acceptance_or_after_a_refusal(api, initiator, receptor):
    pending_id = _create(api, "AT_001", initiator, receptor)["id"]
    declined_id = _create(api, "AT_001", initiator, receptor)["id"]
    withdrawn_id = _create(api, "AT_003", initiator, receptor)["id"]
    api.post(f"{BASE}/{declined_id}/decline")
    api.post(f"{BASE}/{withdrawn_id}/withdraw")
    with time_machine.travel(START, tick=False):
        overdue_id = _create(api, "AT_001", initiator, receptor, valid_for="PT1M")["id"]

    for activity_id in (pending_id, declined_id, withdrawn_id):
        for party in ("initiator", "receptor"):
            response = _details(api, activity_id, party)
            assert response.status_code == 409
            assert response.json()["errors"][0]["code"] == "state_conflict"
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        assert _details(api, overdue_id, "initiator").status_code == 409


def test_it_answers_410_once_the_sharing_period_is_over(api, initiator, receptor):
    with time_machine.travel(START, tick=False):
        activity_id = _create(api, "AT_003", initiator, receptor)["id"]
        _accept(api, activity_id, sharing_period="P1D")
    with time_machine.travel(START + timedelta(days=1), tick=False):
        # Before the sweep: the read path already treats the row as expired.
        response = _details(api, activity_id, "initiator")
        assert response.status_code == 410
        assert response.json()["errors"][0]["code"] == "gone"
        assert api.get(f"{BASE}/{activity_id}").json()["status"] == "EXPIRED"
        assert {a["id"] for a in api.get(BASE, {"status": "EXPIRED"}).json()["results"]} == {activity_id}
        assert api.get(BASE, {"status": "ACCEPTED"}).json()["results"] == []

        from apps.activities.services import activities_expire_overdue

        assert activities_expire_overdue() == 1
        assert _details(api, activity_id, "receptor").status_code == 410
    assert not SharedSnapshot.objects.filter(activity_id=activity_id).exists()


def test_it_answers_410_after_a_revocation_and_deletes_the_values(api, initiator, receptor):
    activity_id = _create(api, "AT_002", initiator, receptor)["id"]
    assert SharedSnapshot.objects.filter(activity_id=activity_id).exists()

    activity_revoke(activity=Activity.objects.get(pk=activity_id), actor=Actor.user(receptor.person))

    assert _details(api, activity_id, "receptor").status_code == 410
    assert not SharedSnapshot.objects.filter(activity_id=activity_id).exists()
    assert api.get(f"{BASE}/{activity_id}").json()["status"] == "EXPIRED"
    row = _activity_transitions().get(object_id=activity_id, to_state="EXPIRED")
    assert (row.from_state, row.reason, row.actor_type) == ("ACCEPTED", "revoked", "user")


# --- Who may act ------------------------------------------------------------------------------


@pytest.mark.parametrize("type", ["AT_002", "AT_003"])
def test_it_refuses_to_share_an_unmanaged_persons_details(api, unmanaged, receptor, type):
    """Issue 15, finding 1 (high): an organization named a non-managed person as the initiator of
    a share and their current details went to the receptor at once, without the person's act."""
    response = api.post(
        BASE, _payload(type, unmanaged, receptor, offered_details=["first_name", "email"]), format="json"
    )

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "not_managed"
    _assert_nothing_created()
    # The receptor's person sees nothing either.
    assert not Activity.objects.filter(receptor=receptor).exists()


def test_it_refuses_not_managed_before_saying_whether_the_person_has_a_value(api, unmanaged, receptor):
    """The 403 comes before the value check: an integrator cannot probe which details a
    non-managed person holds ("No value to share for: phone")."""
    for offered in (["phone"], ["first_name"]):
        response = api.post(BASE, _payload("AT_002", unmanaged, receptor, offered_details=offered), format="json")
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "not_managed"
    _assert_nothing_created()


@pytest.mark.parametrize("type", ["AT_001", "AT_004"])
def test_a_request_or_authorization_with_an_unmanaged_initiator_moves_no_initiator_data(api, unmanaged, receptor, type):
    """Only a share or swap gives the initiator's details; the others give nothing of theirs."""
    created = _create(api, type, unmanaged, receptor)

    assert created["status"] == "SENT"
    assert not SharedSnapshot.objects.exists()


def test_it_does_not_answer_for_an_unmanaged_receptor(api, initiator, unmanaged):
    activity_id = _create(api, "AT_001", initiator, unmanaged)["id"]

    for path, body in (("accept", {"sharing_period": "P1D"}), ("decline", {})):
        response = api.post(f"{BASE}/{activity_id}/{path}", body, format="json")
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "not_managed"
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING
    # The managed initiator may still withdraw.
    assert api.post(f"{BASE}/{activity_id}/withdraw").status_code == 200


def test_it_does_not_withdraw_for_an_unmanaged_initiator(api, unmanaged, receptor):
    activity_id = _create(api, "AT_004", unmanaged, receptor)["id"]

    assert api.post(f"{BASE}/{activity_id}/withdraw").status_code == 403
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING


def test_it_does_not_complete_or_read_details_for_an_unmanaged_party(api, initiator, unmanaged):
    # A share needs no answer, so an unmanaged receptor can hold an ACCEPTED activity.
    activity_id = _create(api, "AT_002", initiator, unmanaged)["id"]

    response = api.post(f"{BASE}/{activity_id}/complete", {"as": "receptor"}, format="json")
    assert response.status_code == 403
    assert _details(api, activity_id, "receptor").status_code == 403
    assert Activity.objects.get(pk=activity_id).receptor_completed_at is None
    # The managed side is served.
    assert api.post(f"{BASE}/{activity_id}/complete", {"as": "initiator"}, format="json").status_code == 200
    assert _details(api, activity_id, "initiator").status_code == 200
    # Reading the activity itself is not acting for anyone.
    assert api.get(f"{BASE}/{activity_id}", {"as": "receptor"}).status_code == 200


def test_it_hides_activities_from_another_organization(api, outsider_api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]

    assert outsider_api.get(BASE).status_code == 404
    assert outsider_api.post(BASE, _payload("AT_001", initiator, receptor), format="json").status_code == 404
    assert outsider_api.get(f"{BASE}/{activity_id}").status_code == 404
    assert outsider_api.get(f"{BASE}/{activity_id}/details", {"as": "receptor"}).status_code == 404
    for path in ("accept", "decline", "withdraw"):
        assert outsider_api.post(f"{BASE}/{activity_id}/{path}", {}, format="json").status_code == 404
    assert outsider_api.get(f"/api/v1/orgs/globex/activities/{activity_id}").status_code == 404
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING
    assert Activity.objects.count() == 1


def test_it_needs_the_activities_scope(scopeless_api, api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]

    for response in (
        scopeless_api.get(BASE),
        scopeless_api.post(BASE, _payload("AT_001", initiator, receptor), format="json"),
        scopeless_api.get(f"{BASE}/{activity_id}"),
        scopeless_api.post(f"{BASE}/{activity_id}/accept", {"sharing_period": "P1D"}, format="json"),
        scopeless_api.post(f"{BASE}/{activity_id}/decline"),
        scopeless_api.get(f"{BASE}/{activity_id}/details"),
    ):
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "missing_scope"
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING


def test_it_needs_a_key(client, api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]

    assert client.get(BASE).status_code == 401
    assert client.get(f"{BASE}/{activity_id}").status_code == 401


def test_it_answers_404_for_an_unknown_activity(api):
    unknown = uuid.uuid4()
    assert api.get(f"{BASE}/{unknown}").status_code == 404
    assert _accept(api, unknown, sharing_period="P1D").status_code == 404
    assert _details(api, unknown, "initiator").status_code == 404


# --- Authorization with BioFace ------------------------------------------------------------------


def _bioface_activity(api, initiator, receptor) -> str:
    authorization = {"description": "Transfer 5,000 EUR", "requires_bioface": True}
    return _create(api, "AT_004", initiator, receptor, authorization=authorization)["id"]


def _facetec(api, identity, activity_id, sample: str = "accepted") -> VerificationProcess:
    body = {"provider": "facetec", "identityId": str(identity.pk)}
    if activity_id:
        body["activityId"] = activity_id
    response = api.post("/api/v1/orgs/acme/processes", body, format="json")
    assert response.status_code == 201, response.json()
    process = VerificationProcess.objects.get(pk=response.json()["processId"])
    return process_replay_sample(process=process, provider="facetec", sample=sample, actor=Actor.provider("facetec"))


def test_it_needs_an_accepted_facetec_check_of_the_receptor_for_this_activity(api, initiator, receptor):
    activity_id = _bioface_activity(api, initiator, receptor)

    response = _accept(api, activity_id)
    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "state_conflict"
    assert Activity.objects.get(pk=activity_id).status == ActivityStatus.PENDING

    process = _facetec(api, receptor, activity_id)
    assert process.status == "accepted"
    response = _accept(api, activity_id)
    assert response.status_code == 200
    assert response.json()["status"] == "ACCEPTED"


@pytest.mark.parametrize("sample", ["rejected", "inconclusive"])
def test_it_does_not_count_a_facetec_check_that_was_not_accepted(api, initiator, receptor, sample):
    activity_id = _bioface_activity(api, initiator, receptor)
    _facetec(api, receptor, activity_id, sample)

    assert _accept(api, activity_id).status_code == 409


def test_it_does_not_count_a_facetec_check_for_another_activity_or_none(api, initiator, receptor):
    activity_id = _bioface_activity(api, initiator, receptor)
    other_id = _bioface_activity(api, initiator, receptor)
    _facetec(api, receptor, other_id)
    _facetec(api, receptor, None)

    assert _accept(api, activity_id).status_code == 409
    assert _accept(api, other_id).status_code == 200


def test_it_does_not_count_a_facetec_check_of_someone_else(api, org, initiator, receptor):
    activity_id = _bioface_activity(api, initiator, receptor)

    # The API refuses to tie someone else's process to the activity...
    body = {"provider": "facetec", "identityId": str(initiator.pk), "activityId": activity_id}
    response = api.post("/api/v1/orgs/acme/processes", body, format="json")
    assert response.status_code == 400
    assert _fields(response) == ["activityId"]
    # ...and one tied to it anyway (the initiator's) does not count.
    process = process_create(
        organization=org, provider="facetec", process_type=None, identity=initiator, actor=Actor.system("test")
    )
    VerificationProcess.objects.filter(pk=process.pk).update(activity_id=activity_id)
    process = process_replay_sample(
        process=VerificationProcess.objects.get(pk=process.pk),
        provider="facetec",
        sample="accepted",
        actor=Actor.provider("facetec"),
    )
    assert process.status == "accepted"
    assert _accept(api, activity_id).status_code == 409


def test_it_does_not_count_another_provider_for_bioface(api, org, initiator, receptor):
    activity_id = _bioface_activity(api, initiator, receptor)
    process = process_create(
        organization=org,
        provider="onfido",
        process_type="documentSelfie",
        identity=Activity.objects.get(pk=activity_id).receptor,
        activity=Activity.objects.get(pk=activity_id),
        actor=Actor.system("test"),
    )
    process = process_replay_sample(
        process=process, provider="onfido", sample="accepted", actor=Actor.provider("onfido")
    )
    assert process.status == "accepted"

    assert _accept(api, activity_id).status_code == 409


# --- Consent receipts --------------------------------------------------------------------------


def _values_not_names() -> list[str]:
    # A receipt names its recipient, so first and last names may appear; no other value may.
    details = {
        **{f"i_{k}": v for k, v in INITIATOR_DETAILS.items()},
        **{f"r_{k}": v for k, v in RECEPTOR_DETAILS.items()},
    }
    return [v for k, v in details.items() if not k.endswith("_name")]


def test_it_writes_a_consent_receipt_at_acceptance_with_names_and_no_values(api, initiator, receptor):
    activity_id = _create(api, "AT_001", initiator, receptor)["id"]
    assert not ConsentReceipt.objects.exists()
    _accept(api, activity_id, accepted_details=["first_name"], sharing_period="P30D")

    receipt = ConsentReceipt.objects.get()
    activity = Activity.objects.get(pk=activity_id)
    assert receipt.activity_id == activity.pk
    assert receipt.person_id == receptor.person_id
    assert receipt.party == "receptor"
    assert receipt.details == ["first_name"]
    assert receipt.recipient == "Ana García"
    assert receipt.organization_name == "Acme Bank"
    assert receipt.purpose == "Open an account"
    assert receipt.sharing_until == activity.sharing_until
    rendered = str(receipt.as_json())
    assert not any(value in rendered for value in _values_not_names())


def test_it_writes_a_receipt_for_each_giver(api, initiator, receptor):
    share_id = _create(api, "AT_002", initiator, receptor)["id"]
    swap_id = _create(api, "AT_003", initiator, receptor)["id"]
    _accept(api, swap_id, sharing_period="P1D")

    share = ConsentReceipt.objects.get(activity_id=share_id)
    assert (share.party, share.person_id, share.details) == ("initiator", initiator.person_id, ["first_name", "phone"])
    swap = {r.party: r for r in ConsentReceipt.objects.filter(activity_id=swap_id)}
    assert swap["receptor"].details == ["first_name"] and swap["receptor"].person_id == receptor.person_id
    assert swap["initiator"].details == ["email"] and swap["initiator"].person_id == initiator.person_id
    for receipt in ConsentReceipt.objects.all():
        rendered = str(receipt.as_json())
        assert not any(value in rendered for value in _values_not_names())


def test_it_keeps_the_receipt_after_the_sharing_ends(api, initiator, receptor):
    activity_id = _create(api, "AT_002", initiator, receptor)["id"]
    activity_revoke(activity=Activity.objects.get(pk=activity_id), actor=Actor.system("test"))

    assert ConsentReceipt.objects.filter(activity_id=activity_id).count() == 1


def test_it_refuses_a_sharing_period_for_an_authorization(api, make_activity):
    activity = make_activity(ActivityType.AUTHORIZATION)
    response = api.post(f"/api/v1/orgs/acme/activities/{activity.pk}/accept", {"sharing_period": "P1D"}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "sharing_period"


def test_it_refuses_a_swap_offering_details_the_initiator_has_no_value_for(api, initiator, receptor):
    from apps.activities.models import Activity

    body = {
        "type": "AT_003",
        "initiator_id": str(initiator.pk),
        "receptor_id": str(receptor.pk),
        "requirements": [{"detail": "first_name", "required": True}],
        "offered_details": ["place_of_birth"],
    }
    response = api.post("/api/v1/orgs/acme/activities", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "offered_details"
    assert not Activity.objects.exists()
