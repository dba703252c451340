"""Races on PostgreSQL with real threads and connections (issue 10, item 3).

Two requests (or a request and a beat sweep) that change the same object are released
together by a barrier, many times over. Every time exactly one transition wins, the loser
is told so (409 from the API or the page, StateConflict from a service, nothing from a
sweep), and the audit log holds exactly one row for the change.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from apps.activities.models import Activity, ActivityStatus, ActivityType, SharedSnapshot
from apps.activities.services import activities_cancel_overdue, activity_accept, activity_create
from apps.audit.errors import StateConflict
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.identifications.models import OtpIdentification
from apps.identities.services import identity_activate
from apps.people.services import person_set_details
from apps.transfers.models import TransferSession
from tests.factories import make_api_key, make_identity, make_person
from tests.identifications.conftest import step_path
from tests.reliability.conftest import postgres_only, race

pytestmark = [postgres_only, pytest.mark.django_db(transaction=True)]

ROUNDS = 10
# Random delays after the barrier, so that each side of a race wins in some rounds.
JITTER = 0.05
ACTIVITIES = "/api/v1/orgs/acme/activities"


def _client(org) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {make_api_key(org)}")
    return client


def _party(org, login: str, **details: str):
    identity = make_identity(org, email=login, first_name=details["first_name"], last_name=details["last_name"])
    person = make_person(login)
    person_set_details(person=person, details=details)
    return identity_activate(identity=identity, person=person)


@pytest.fixture
def parties(org):
    initiator = _party(org, "ines.race@example.com", first_name="Ines", last_name="Racewinner")
    receptor = _party(
        org, "rafa.race@example.com", first_name="Rafa", last_name="Losingrace", date_of_birth="1980-02-29"
    )
    return initiator, receptor


def _request(org, parties, *, valid_for: timedelta | None = None) -> Activity:
    initiator, receptor = parties
    return activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=initiator.pk,
        receptor_id=receptor.pk,
        requirements=[{"detail": "first_name", "required": True}, {"detail": "date_of_birth", "required": False}],
        valid_for=valid_for,
        purpose="Open an account",
        actor=Actor.system("test"),
    )


def _rows(object_id, *states: str) -> int:
    return Transition.objects.filter(object_id=str(object_id), to_state__in=states).count()


# --- Activities -----------------------------------------------------------------------------


def test_two_simultaneous_accepts_of_one_activity_let_one_win(org, parties):
    clients = [_client(org), _client(org)]
    for _ in range(ROUNDS):
        activity = _request(org, parties)
        url = f"{ACTIVITIES}/{activity.pk}/accept"
        outcomes = race(*(lambda c=c, url=url: c.post(url, {"sharing_period": "P30D"}, format="json") for c in clients))

        assert [o.error for o in outcomes] == [None, None]
        codes = sorted(o.value.status_code for o in outcomes)
        assert codes == [200, 409], [o.value.content for o in outcomes]
        loser = next(o.value for o in outcomes if o.value.status_code == 409)
        assert loser.json()["errors"][0]["code"] == "state_conflict"
        assert Activity.objects.get(pk=activity.pk).status == ActivityStatus.ACCEPTED
        assert _rows(activity.pk, ActivityStatus.ACCEPTED) == 1
        # The loser wrote nothing either: one snapshot of what the receptor gave.
        assert SharedSnapshot.objects.filter(activity=activity).count() == 1


def test_two_simultaneous_accepts_in_the_service_raise_state_conflict_for_one(org, parties):
    for _ in range(ROUNDS):
        activity = _request(org, parties)
        outcomes = race(
            *(
                lambda pk=activity.pk: activity_accept(
                    activity=Activity.objects.get(pk=pk),
                    sharing_period=timedelta(days=1),
                    actor=Actor.system("test"),
                )
                for _ in range(2)
            )
        )

        winners = [o for o in outcomes if o.error is None]
        losers = [o for o in outcomes if o.error is not None]
        assert len(winners) == 1 and len(losers) == 1
        assert isinstance(losers[0].error, StateConflict), repr(losers[0].error)
        assert _rows(activity.pk, ActivityStatus.ACCEPTED) == 1


def test_an_accept_racing_the_validity_sweep_lets_one_win(org, parties):
    """The receptor answers just before valid_until while the sweep runs just after it.

    The sweep's thread sees a clock one hour ahead, so for it the activity is overdue; the
    acceptor's thread sees the real clock, so for it the activity is still pending.
    """
    client = _client(org)
    real_now = timezone.now
    late = threading.local()

    def clock():
        return real_now() + timedelta(hours=1) if getattr(late, "on", False) else real_now()

    def sweep() -> int:
        late.on = True
        try:
            return activities_cancel_overdue()
        finally:
            late.on = False

    won = {"accept": 0, "sweep": 0}
    with mock.patch("django.utils.timezone.now", clock):
        for _ in range(ROUNDS):
            activity = _request(org, parties, valid_for=timedelta(minutes=30))
            url = f"{ACTIVITIES}/{activity.pk}/accept"
            accepted, swept = race(
                lambda url=url: client.post(url, {"sharing_period": "P30D"}, format="json"), sweep, jitter=JITTER
            )

            assert accepted.error is None and swept.error is None, (accepted.error, swept.error)
            status = Activity.objects.get(pk=activity.pk).status
            if accepted.value.status_code == 200:
                won["accept"] += 1
                assert (status, swept.value) == (ActivityStatus.ACCEPTED, 0)
            else:
                won["sweep"] += 1
                assert accepted.value.status_code == 409, accepted.value.content
                assert (status, swept.value) == (ActivityStatus.CANCELED, 1)
                assert not SharedSnapshot.objects.filter(activity=activity).exists()
            assert _rows(activity.pk, ActivityStatus.ACCEPTED, ActivityStatus.CANCELED) == 1
            # Whatever won, a later sweep finds nothing more to do.
            assert sweep() == 0
    assert sum(won.values()) == ROUNDS


# --- Data-transfer sessions ---------------------------------------------------------------------


def _signed_in(person) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)
    client.get("/me/")
    return client, client.cookies["csrftoken"].value


def test_two_simultaneous_confirms_of_one_session_let_one_win(org, api):
    person = make_person("sam.race@example.com", first_name="Sam", last_name="Doubletap")
    phones = [_signed_in(person), _signed_in(person)]
    for _ in range(ROUNDS):
        created = api.post("/api/v1/orgs/acme/sessions", {"scopes": ["first_name", "last_name"]}, format="json")
        sid = created.json()["session_id"]
        assert phones[0][0].get(f"/api/v1/session/{sid}/information").status_code == 200
        body = {"decision": "confirmed", "accepted_scopes": ["first_name"]}

        outcomes = race(
            *(
                lambda c=c, t=t, sid=sid, body=body: c.post(
                    f"/api/v1/session/{sid}/update", body, content_type="application/json", HTTP_X_CSRFTOKEN=t
                )
                for c, t in phones
            )
        )

        assert [o.error for o in outcomes] == [None, None]
        assert sorted(o.value.status_code for o in outcomes) == [200, 409], [o.value.content for o in outcomes]
        session = TransferSession.objects.get(pk=sid)
        assert session.status == "confirmed"
        assert session.data == {"first_name": "Sam"}
        assert _rows(sid, "confirmed", "declined") == 1


# --- OTP identifications ----------------------------------------------------------------------


def test_a_cancel_racing_the_identifying_code_lets_one_win(org, api):
    page = Client()
    won = {"CANCELED": 0, "IDENTIFIED": 0}
    for round_ in range(ROUNDS):
        created = api.post(
            "/api/v1/orgs/acme/identifications/otp",
            {
                "actor": {"name": "Olga", "surname": "Racecode", "email": f"olga.{round_}@example.com"},
                "expires_in": "P1D",
                "channel": {"type": "EMAIL"},
            },
            format="json",
        )
        assert created.status_code == 201, created.json()
        ident_id, path = created.json()["id"], created.json()["url"].replace("http://testserver", "")
        page.get(path)
        assert page.post(step_path(path, "send"), {"send": "1"}).status_code == 302
        code = mail.outbox[-1].body.split(" is ")[1][:6]

        identified, canceled = race(
            lambda path=path, code=code: page.post(step_path(path, "code"), {"code": code}),
            lambda ident_id=ident_id: api.post(
                f"/api/v1/orgs/acme/identifications/otp/{ident_id}/cancel", {"reason": "duplicate"}, format="json"
            ),
            jitter=JITTER,
        )

        assert identified.error is None and canceled.error is None, (identified.error, canceled.error)
        status = OtpIdentification.objects.get(pk=ident_id).status
        won[status] += 1
        if status == "IDENTIFIED":
            assert (identified.value.status_code, canceled.value.status_code) == (302, 409)
        else:
            assert (identified.value.status_code, canceled.value.status_code) == (409, 204)
        assert _rows(ident_id, "IDENTIFIED", "CANCELED") == 1
    assert sum(won.values()) == ROUNDS


def test_simultaneous_wrong_codes_are_all_counted_and_fail_the_identification_once(org, api):
    """Eight guesses at once: the attempt counter loses none, the fifth fails it, the rest get 409."""
    created = api.post(
        "/api/v1/orgs/acme/identifications/otp",
        {
            "actor": {"name": "Gus", "surname": "Guesser", "email": "gus.guesser@example.com"},
            "expires_in": "P1D",
            "channel": {"type": "EMAIL"},
        },
        format="json",
    ).json()
    path = created["url"].replace("http://testserver", "")
    pages = [Client() for _ in range(8)]
    pages[0].get(path)
    assert pages[0].post(step_path(path, "send"), {"send": "1"}).status_code == 302
    right = mail.outbox[-1].body.split(" is ")[1][:6]
    wrong = f"{(int(right) + 1) % 10**6:06d}"

    outcomes = race(*(lambda p=p: p.post(step_path(path, "code"), {"code": wrong}) for p in pages))

    assert [o.error for o in outcomes] == [None] * 8
    codes = sorted(o.value.status_code for o in outcomes)
    assert codes.count(409) == 3, codes
    identification = OtpIdentification.objects.get(pk=created["id"])
    assert (identification.status, identification.failed_attempts) == ("FAILED", 5)
    assert _rows(created["id"], "FAILED") == 1


def test_two_creates_racing_for_a_destinations_last_message_let_one_through(org, api, other_org):
    """Issue 15: the per-destination message limit is taken before the identification exists, by
    one atomic count, so two organizations racing for the last of a phone's five messages an hour
    get one 201 and one 429 (nothing created, nothing sent)."""
    from django.core.cache import cache

    from apps.identifications import sms

    other = _client(other_org)

    def body(n: int, round_: int) -> dict:
        return {
            "actor": {
                "name": "Rita",
                "surname": "Race",
                "email": f"rita.{round_}.{n}@example.com",
                "phone": "+34611000000",
            },
            "expires_in": "P1D",
            "channel": {"type": "SMS"},
        }

    for round_ in range(ROUNDS):
        cache.clear()
        OtpIdentification.objects.all().delete()
        sms.outbox.clear()
        for n in range(4):
            assert api.post("/api/v1/orgs/acme/identifications/otp", body(n, round_), format="json").status_code == 201

        outcomes = race(
            lambda round_=round_: api.post("/api/v1/orgs/acme/identifications/otp", body(8, round_), format="json"),
            lambda round_=round_: other.post("/api/v1/orgs/globex/identifications/otp", body(9, round_), format="json"),
            jitter=JITTER,
        )

        assert [o.error for o in outcomes] == [None, None]
        assert sorted(o.value.status_code for o in outcomes) == [201, 429]
        assert OtpIdentification.objects.count() == 5
        assert len(sms.outbox) == 5
