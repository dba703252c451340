"""Issue 15, finding 2 (medium): link messages had no limit per destination; 25 resends sent 25
SMS. API.md "OTP identifications": at most 5 link messages (create + resend) per destination an
hour and 20 a day, whatever the organization or key, and at most 3 an hour per identification;
past that create and resend answer 429 with Retry-After, and nothing is sent or created.
Invitation emails share the destination's budget (docs/api-decisions.md)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache

from apps.core.counters import LimitExceeded, WindowLimit, window_limits_take
from apps.identifications import sms
from apps.identifications.models import OtpIdentification, OtpMessage
from apps.identities.models import ExternalPersonalIdentity
from tests.factories import OrganizationFactory, make_api_key, make_identity
from tests.identifications.conftest import BASE, body

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PHONE = "+34600111222"
IDENTITIES = "/api/v1/orgs/{org}/external-personal-identities"


def _sms_body(n: int, phone: str = PHONE) -> dict:
    """An SMS identification for `phone`; `n` makes the actor's email and document unique."""
    return body(
        actor={
            "name": "Ana",
            "surname": "García",
            "email": f"ana{n}@example.com",
            "phone": phone,
            "document_number": f"1234567{n}Z",
        },
        channel={"type": "SMS"},
    )


def _assert_429(response, code: str = "too_many_messages") -> None:
    assert response.status_code == 429, response.json()
    assert int(response["Retry-After"]) >= 1
    (error,) = response.json()["errors"]
    assert error["code"] == code
    assert "Nothing was sent" in error["message"]


@pytest.fixture
def orgs(org, make_client):
    """Four organizations' API keys: the limits hold whoever asks."""
    clients = {"acme": make_client(make_api_key(org))}
    for slug in ("globex", "initech", "umbrella"):
        clients[slug] = make_client(make_api_key(OrganizationFactory(slug=slug, name=slug.title())))
    return clients


# --- The finding, as the attacker did it ------------------------------------------------------


def test_twenty_five_resends_send_three_messages(api):
    created = api.post(BASE, _sms_body(1), format="json")
    assert created.status_code == 201
    resend = f"{BASE}/{created.json()['id']}/resend"

    answers = [api.post(resend) for _ in range(25)]

    assert [a.status_code for a in answers[:2]] == [204, 204]
    for answer in answers[2:]:
        _assert_429(answer)
    assert len(sms.outbox) == 3  # the create's link and two resends: 3 an hour per identification
    assert OtpMessage.objects.count() == 3


def test_a_destination_gets_five_link_messages_an_hour_whichever_organization_asks(orgs):
    with time_machine.travel(START, tick=False):
        ids = []
        for n, slug in enumerate(["acme", "acme", "globex", "globex", "initech"]):
            response = orgs[slug].post(BASE.replace("acme", slug), _sms_body(n), format="json")
            assert response.status_code == 201, response.json()
            ids.append(response.json()["id"])

        sixth = orgs["initech"].post(BASE.replace("acme", "initech"), _sms_body(9), format="json")
        resend = orgs["acme"].post(f"{BASE}/{ids[0]}/resend")

        _assert_429(sixth)
        _assert_429(resend)
        assert int(sixth["Retry-After"]) == 3600  # the hour's window ends at 11:00
        # The sixth identification was not created, and nothing more was sent.
        assert OtpIdentification.objects.count() == 5
        assert len(sms.outbox) == 5

    with time_machine.travel(START + timedelta(hours=1), tick=False):
        assert orgs["acme"].post(f"{BASE}/{ids[0]}/resend").status_code == 204
    assert len(sms.outbox) == 6


def test_spelling_a_destination_differently_does_not_give_it_a_new_budget(api):
    spellings = ["+34 600 111 222", "+34600111222", "+34 (600) 111-222", "+34.600.111.222", "+34600 111222"]
    for n, phone in enumerate(spellings):
        assert api.post(BASE, _sms_body(n, phone), format="json").status_code == 201

    _assert_429(api.post(BASE, _sms_body(7, "+346001 11222"), format="json"))


def test_an_email_address_counts_whatever_its_case(orgs):
    def actor(email: str) -> dict:
        return {"name": "Eva", "surname": "Smit", "email": email, "document_number": "D1"}

    created = [
        orgs[slug].post(BASE.replace("acme", slug), body(actor=actor(email)), format="json")
        for slug, email in (("acme", "eva@example.com"), ("globex", "Eva@Example.com"), ("initech", "EVA@example.COM"))
    ]
    assert [c.status_code for c in created] == [201, 201, 201]
    resend = f"{BASE}/{created[0].json()['id']}/resend"
    assert [orgs["acme"].post(resend).status_code for _ in range(2)] == [204, 204]

    _assert_429(
        orgs["umbrella"].post(BASE.replace("acme", "umbrella"), body(actor=actor("eva@EXAMPLE.com")), format="json")
    )
    assert len(mail.outbox) == 5


def test_a_destination_gets_twenty_link_messages_a_day(orgs):
    sent = 0
    for hour in range(4):
        with time_machine.travel(START + timedelta(hours=hour), tick=False):
            for n in range(5):
                slug = ["acme", "globex", "initech"][n % 3]
                OtpIdentification.objects.all().delete()  # only the messages matter here
                response = orgs[slug].post(BASE.replace("acme", slug), _sms_body(n), format="json")
                assert response.status_code == 201, (hour, n, response.json())
                sent += 1
    assert sent == len(sms.outbox) == 20

    with time_machine.travel(START + timedelta(hours=5), tick=False):
        refused = orgs["acme"].post(BASE, _sms_body(1), format="json")
        _assert_429(refused)
        assert int(refused["Retry-After"]) == 9 * 3600  # the day's window ends at midnight UTC
    with time_machine.travel(datetime(2026, 11, 24, 0, 0, 1, tzinfo=UTC), tick=False):
        assert orgs["acme"].post(BASE, _sms_body(1), format="json").status_code == 201


def test_a_refusal_costs_nothing(api):
    """A refused request gives its count back: the budget is spent only by messages sent."""
    with time_machine.travel(START, tick=False):
        created = api.post(BASE, _sms_body(1), format="json").json()
        resend = f"{BASE}/{created['id']}/resend"
        api.post(resend)
        api.post(resend)
        for _ in range(10):
            _assert_429(api.post(resend))
        # Two more identifications fit the destination's five.
        for n in (2, 3):
            assert api.post(BASE, _sms_body(n), format="json").status_code == 201
        _assert_429(api.post(BASE, _sms_body(4), format="json"))
    assert len(sms.outbox) == 5


def test_the_cache_holds_no_destination_in_clear(api):
    api.post(BASE, _sms_body(1), format="json")

    cache = caches["default"]
    assert isinstance(cache, LocMemCache)
    keys = " ".join(cache._cache)
    assert "600111222" not in keys and "ana1" not in keys
    assert "messages:" in keys


# --- Invitations share the destination's budget ---------------------------------------------------


def test_invitation_emails_are_limited_per_address_too(orgs, django_capture_on_commit_callbacks):
    payload = {"emailAddress": "eva@example.com", "firstName": "Eva", "lastName": "Smit", "managed": True}
    with django_capture_on_commit_callbacks(execute=True):
        for slug in ("acme", "globex", "initech"):
            assert orgs[slug].post(IDENTITIES.format(org=slug), payload, format="json").status_code == 201
        resend = f"{IDENTITIES.format(org='acme')}/{ExternalPersonalIdentity.objects.get(organization__slug='acme').pk}/resend-invitation"
        assert [orgs["acme"].post(resend).status_code for _ in range(2)] == [204, 204]

        _assert_429(orgs["acme"].post(resend))
        _assert_429(orgs["umbrella"].post(IDENTITIES.format(org="umbrella"), payload, format="json"))

    assert not ExternalPersonalIdentity.objects.filter(organization__slug="umbrella").exists()
    assert [m.to for m in mail.outbox] == [["eva@example.com"]] * 5


def test_an_identification_link_and_invitations_share_one_inbox_budget(api, django_capture_on_commit_callbacks):
    payload = {"emailAddress": "eva@example.com", "firstName": "Eva", "lastName": "Smit", "managed": True}
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post(IDENTITIES.format(org="acme"), payload, format="json").status_code == 201
        identity = ExternalPersonalIdentity.objects.get()
        for _ in range(2):
            api.post(f"{IDENTITIES.format(org='acme')}/{identity.pk}/resend-invitation")
        actor = {"name": "Eva", "surname": "Smit", "email": "eva@example.com", "document_number": "D1"}
        created = api.post(BASE, body(actor=actor, two_factor_type=None), format="json")
        assert created.status_code == 201
        assert api.post(f"{BASE}/{created.json()['id']}/resend").status_code == 204  # the fifth

        _assert_429(api.post(f"{BASE}/{created.json()['id']}/resend"))
    assert len(mail.outbox) == 5


def test_changing_an_invited_identitys_email_to_an_exhausted_address_changes_nothing(
    orgs, org, django_capture_on_commit_callbacks
):
    identity = make_identity(org, email="first@example.com")
    payload = {"emailAddress": "eva@example.com", "firstName": "Eva", "lastName": "Smit", "managed": True}
    with django_capture_on_commit_callbacks(execute=True):
        created = orgs["globex"].post(IDENTITIES.format(org="globex"), payload, format="json").json()
        for _ in range(4):
            resend = f"{IDENTITIES.format(org='globex')}/{created['id']}/resend-invitation"
            assert orgs["globex"].post(resend).status_code == 204
    assert len(mail.outbox) == 5
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = orgs["acme"].patch(
            f"{IDENTITIES.format(org='acme')}/{identity.pk}", {"emailAddress": "eva@example.com"}, format="json"
        )

    _assert_429(response)
    identity.refresh_from_db()
    assert identity.email_address == "first@example.com"
    assert mail.outbox == []


# --- The counter itself: one slot, many racers --------------------------------------------------------


def _caches():
    found = [pytest.param(LocMemCache("race", {}), id="locmem")]
    if settings.REDIS_URL:
        from apps.core.cache import ResilientRedisCache

        found.append(pytest.param(ResilientRedisCache(settings.REDIS_URL, {}), id="redis"))
    return found


@pytest.mark.parametrize("cache", _caches())
def test_of_many_racers_for_the_last_slot_exactly_one_gets_it(cache):
    name = f"race-{threading.get_ident()}-{datetime.now(UTC).timestamp()}"
    limit = WindowLimit(name, 5, 3600, "full")
    for _ in range(4):
        window_limits_take([limit], cache=cache)
    start = threading.Barrier(12)
    won, lost = [], []

    def racer() -> None:
        start.wait(timeout=10)
        try:
            window_limits_take([limit], cache=cache)
            won.append(1)
        except LimitExceeded:
            lost.append(1)

    threads = [threading.Thread(target=racer) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert (len(won), len(lost)) == (1, 11)
    with pytest.raises(LimitExceeded):
        window_limits_take([limit], cache=cache)
