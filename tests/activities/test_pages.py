"""The person's side of consent activities, under /me/: the inbox, the consent screen, sharing,
revoking and receipts. Three personas: the receptor (Eva), the initiator (Bruno, a person behind
the bank's managed identity) and an outsider (Olga, an identity of the same organization)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.activities.models import Activity, ActivityStatus, ActivityType, ConsentReceipt, SharedSnapshot
from apps.activities.services import activity_accept, activity_create, activity_decline
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.identities.services import identity_activate
from apps.people.services import person_set_details
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_sandbox_choose
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.django_db

EVA = {"first_name": "Eva", "last_name": "Smit", "date_of_birth": "1985-12-24", "nationality": "NLD"}
BRUNO = {"first_name": "Bruno", "last_name": "Banker", "email": "bruno@example.com", "nationality": "ESP"}


def _party(org, account: str, **details: str):
    identity = make_identity(org, email=account, first_name=details["first_name"], last_name=details["last_name"])
    person = make_person(account)
    # `email` is also a personal detail, which make_person's own email argument would swallow.
    person_set_details(person=person, details=details)
    return identity_activate(identity=identity, person=person)


@pytest.fixture
def eva_identity(org):
    return _party(org, "eva@example.com", **EVA)


@pytest.fixture
def bruno_identity(org):
    return _party(org, "bruno@example.com", **BRUNO)


@pytest.fixture
def eva(eva_identity):
    return eva_identity.person


@pytest.fixture
def bruno(bruno_identity):
    return bruno_identity.person


@pytest.fixture
def olga(org):
    return _party(org, "olga@example.com", first_name="Olga", last_name="Outsider").person


@pytest.fixture
def ask(org, bruno_identity, eva_identity):
    """Bruno (initiator) asks Eva (receptor), through the service as an integrator would."""

    def make(type: str = ActivityType.REQUEST, **kwargs: Any) -> Activity:
        defaults: dict[str, Any] = {
            ActivityType.REQUEST: {
                "requirements": [
                    {"detail": "first_name", "required": True},
                    {"detail": "date_of_birth", "required": False},
                    {"detail": "phone", "required": False},
                ]
            },
            ActivityType.SHARE: {"offered_details": ["first_name", "email"], "sharing_period": timedelta(days=30)},
            ActivityType.SWAP: {
                "requirements": [{"detail": "first_name", "required": True}, {"detail": "nationality"}],
                "offered_details": ["first_name", "email"],
            },
            ActivityType.AUTHORIZATION: {
                "authorization": {"description": "Transfer 500 EUR to NL01BANK0123", "requires_bioface": False}
            },
        }[type]
        return activity_create(
            organization=org,
            type=type,
            initiator_id=bruno_identity.pk,
            receptor_id=eva_identity.pk,
            purpose="Open a savings account",
            actor=Actor.system("test"),
            **{**defaults, **kwargs},
        )

    return make


def _as(client: Client, person) -> Client:
    client.force_login(person)
    return client


def _page(activity: Activity, suffix: str = "") -> str:
    return f"/me/activities/{activity.pk}/{suffix}"


def _section(html: str, heading: str) -> str:
    """The HTML of the <section> whose h2 starts with `heading` ("" if there is none)."""
    for part in html.split("<section")[1:]:
        body = part.split("</section>")[0]
        if re.search(rf"<h2[^>]*>\s*{re.escape(heading)}", body):
            return body
    return ""


def _reload(activity: Activity) -> Activity:
    return Activity.objects.get(pk=activity.pk)


# --- /me/: inbox, sent, shared now, receipts, history ---------------------------------------


def test_it_shows_action_required_to_the_receptor_and_sent_to_the_initiator(client, ask, eva, bruno):
    activity = ask()

    inbox = _section(_as(client, eva).get("/me/").content.decode(), "Requests waiting for you")
    assert "Bruno Banker asks for your details" in inbox
    assert 'data-status="ACTION_REQUIRED"' in inbox and "Action required" in inbox
    assert "Open a savings account" in inbox
    assert _page(activity) in inbox
    page = client.get(_page(activity)).content.decode()
    assert 'data-status="ACTION_REQUIRED"' in page and 'data-status="SENT"' not in page

    html = _as(client, bruno).get("/me/").content.decode()
    sent = _section(html, "Requests you sent")
    assert "You asked Eva Smit for details" in sent
    assert 'data-status="SENT"' in sent
    assert "ACTION_REQUIRED" not in html and "Action required" not in html
    page = client.get(_page(activity)).content.decode()
    assert 'data-status="SENT"' in page and "ACTION_REQUIRED" not in page
    assert "Waiting for Eva Smit to answer" in page
    assert "Accept and share" not in page


def test_it_requires_sign_in(client, ask):
    activity = ask()

    for url in ("/me/", _page(activity)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_it_shows_nothing_of_other_peoples_activities_on_me(client, ask, olga):
    ask()

    html = _as(client, olga).get("/me/").content.decode()

    assert "Bruno Banker" not in html and "Eva Smit" not in html
    assert "Nothing is waiting for your answer." in html


# --- Who may see and do what -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("post", ""),
        ("post", "decline"),
        ("post", "revoke"),
        ("post", "complete"),
        ("post", "bioface"),
    ],
)
def test_it_answers_404_to_an_outsider(client, ask, olga, method, suffix):
    activity = ask()

    response = getattr(_as(client, olga), method)(_page(activity, suffix), {"sharing_period": "P7D"})

    assert response.status_code == 404
    assert _reload(activity).status == ActivityStatus.PENDING


def test_it_answers_404_to_a_person_of_another_organization_and_for_unknown_ids(client, ask):
    activity = ask()
    stranger = make_person("sam@example.com", first_name="Sam")
    identity_activate(identity=make_identity(OrganizationFactory(), email="sam@example.com"), person=stranger)

    assert _as(client, stranger).get(_page(activity)).status_code == 404
    assert client.get("/me/activities/00000000-0000-0000-0000-000000000000/").status_code == 404


@pytest.mark.parametrize("suffix", ["", "decline", "bioface"])
def test_only_the_receptor_answers(client, ask, bruno, suffix):
    activity = ask()

    response = _as(client, bruno).post(_page(activity, suffix), {"accepted_details": ["first_name"]})

    assert response.status_code == 404
    assert _reload(activity).status == ActivityStatus.PENDING


def test_it_enforces_csrf_on_the_consent_form(ask, eva):
    activity = ask()
    client = Client(enforce_csrf_checks=True)
    client.force_login(eva)

    page = client.get(_page(activity)).content.decode()
    forms = re.findall(r'<form method="post".*?</form>', page, re.S)
    assert len(forms) == 2  # sign out; accept (whose Decline button posts to the decline address)
    assert all('name="csrfmiddlewaretoken"' in form for form in forms)
    for suffix in ("", "decline"):
        response = client.post(_page(activity, suffix), {"accepted_details": ["first_name"], "sharing_period": "P7D"})
        assert response.status_code == 403
    assert _reload(activity).status == ActivityStatus.PENDING


# --- The consent screen ---------------------------------------------------------------------


def test_it_shows_who_asks_why_and_the_values_that_would_leave(client, ask, eva):
    activity = ask()

    response = _as(client, eva).get(_page(activity))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Bruno Banker asks for your details" in html
    assert "Bruno Banker, Acme Bank" in html
    assert "Open a savings account" in html
    # Required: ticked, locked, and still submitted (a disabled checkbox is not).
    assert re.search(r'<input type="checkbox" name="accepted_details" value="first_name"[^>]*checked disabled', html)
    assert '<input type="hidden" name="accepted_details" value="first_name">' in html
    # Optional with a value: ticked and free to untick.
    dob = re.search(r'<input type="checkbox" name="accepted_details" value="date_of_birth"[^>]*>', html).group(0)
    assert "checked" in dob and "disabled" not in dob
    # The actual values, and the one the person has not got.
    # Dates as the page's language writes them, never the stored ISO form.
    assert "Eva" in html and "24 Dec 1985" in html and "1985-12-24" not in html
    phone = re.search(r'<li class="detail-row is-missing">.*?</li>', html, re.S).group(0)
    assert "Phone number" in phone and "Missing: you have not added this detail" in phone
    phone_box = re.search(r'<input type="checkbox"[^>]*>', phone).group(0)
    assert "disabled" in phone_box and "checked" not in phone_box
    # Every period on offer, none chosen for the person.
    for label in ("1 day", "7 days", "30 days", "90 days", "1 year"):
        assert f">{label}</label>" in html
    assert "Accept and share" in html
    assert f'formaction="{_page(activity, "decline")}" formnovalidate>Decline…</button>' in html


def test_it_accepts_with_the_chosen_details_and_period(client, ask, eva, bruno):
    activity = ask()

    response = _as(client, eva).post(_page(activity), {"accepted_details": ["first_name"], "sharing_period": "P30D"})

    assert response.status_code == 302
    assert response["Location"] == "/me/"
    activity = _reload(activity)
    assert activity.status == ActivityStatus.ACCEPTED
    assert activity.accepted_details == ["first_name"]
    assert activity.sharing_period == timedelta(days=30)
    assert abs(activity.sharing_until - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert SharedSnapshot.objects.get(activity=activity).values == {"first_name": "Eva"}
    row = Transition.objects.filter(object_id=str(activity.pk)).latest("id")
    assert (row.to_state, row.actor_type, row.actor_id) == ("ACCEPTED", "user", str(eva.pk))

    html = client.get("/me/").content.decode().replace("\xa0", " ")  # timeuntil's non-breaking spaces
    assert "You share First name with Bruno Banker until" in html
    shared = _section(html, "Shared now")
    assert "With Bruno Banker" in shared and "You share: First name" in shared
    assert "4 weeks, 1 day left" in shared
    assert _page(activity, "revoke") in shared
    receipts = _section(html, "Consent receipts")
    receipt = ConsentReceipt.objects.get(activity=activity)
    assert f"/me/receipts/{receipt.pk}/" in receipts and f"/me/receipts/{receipt.pk}.json" in receipts
    assert _section(html, "Requests waiting for you").count("<li") == 0

    # The initiator sees what they received, with the same period.
    page = _as(client, bruno).get(_page(activity)).content.decode()
    assert 'data-status="ACCEPTED"' in page
    assert "What Eva Smit shares with you" in page and "Eva" in page
    assert "1985-12-24" not in page


def test_a_required_detail_cannot_be_dropped(client, ask, eva):
    activity = ask()

    # A forged POST without the hidden required input.
    response = _as(client, eva).post(_page(activity), {"accepted_details": ["date_of_birth"], "sharing_period": "P7D"})

    assert response.status_code == 400
    html = response.content.decode()
    details = re.search(r'<fieldset class="choices details has-error".*?</fieldset>', html, re.S).group(0)
    assert "Required details cannot be left out: First name." in details
    assert 'aria-describedby="details-help details-error"' in details
    assert _reload(activity).status == ActivityStatus.PENDING
    assert not SharedSnapshot.objects.exists()


def test_it_asks_for_a_period_next_to_the_field(client, ask, eva):
    activity = ask()

    response = _as(client, eva).post(_page(activity), {"accepted_details": ["first_name"]})

    assert response.status_code == 400
    period = re.search(r'<fieldset class="choices period has-error".*?</fieldset>', response.content.decode(), re.S)
    assert "Choose how long the details are shared." in period.group(0)
    assert _reload(activity).status == ActivityStatus.PENDING


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"accepted_details": ["first_name"], "sharing_period": "P3650D"}, "Select a valid choice"),
        ({"accepted_details": ["first_name", "address"], "sharing_period": "P7D"}, "Select a valid choice"),
        (
            {"accepted_details": ["first_name", "phone"], "sharing_period": "P7D"},
            "You have not added these details yet: Phone number.",
        ),
    ],
)
def test_it_refuses_what_the_form_does_not_offer(client, ask, eva, data, message):
    activity = ask()

    response = _as(client, eva).post(_page(activity), data)

    assert response.status_code == 400
    assert message in response.content.decode()
    assert _reload(activity).status == ActivityStatus.PENDING


def test_it_keeps_the_persons_choices_when_showing_errors(client, ask, eva):
    activity = ask()

    html = _as(client, eva).post(_page(activity), {"accepted_details": ["first_name"]}).content.decode()

    dob = re.search(r'<input type="checkbox" name="accepted_details" value="date_of_birth"[^>]*>', html).group(0)
    assert "checked" not in dob


def test_declining_asks_for_a_confirmation_first(client, ask, eva):
    activity = ask()

    for response in (_as(client, eva).get(_page(activity, "decline")), client.post(_page(activity, "decline"))):
        assert response.status_code == 200
        html = response.content.decode()
        assert "Decline this request?" in html
        assert '<input type="hidden" name="confirm" value="1">' in html

    assert _reload(activity).status == ActivityStatus.PENDING


def test_it_declines(client, ask, eva, bruno):
    activity = ask()

    response = _as(client, eva).post(_page(activity, "decline"), {"confirm": "1"})

    assert response.status_code == 302 and response["Location"] == "/me/"
    assert _reload(activity).status == ActivityStatus.DECLINED
    assert not SharedSnapshot.objects.exists() and not ConsentReceipt.objects.exists()
    html = client.get("/me/").content.decode()
    assert "Nothing was shared" in html
    history = _section(html, "History")
    assert "Bruno Banker asked for your details" in history and 'data-status="DECLINED"' in history
    assert 'data-status="DECLINED"' in _section(_as(client, bruno).get("/me/").content.decode(), "History")


def test_it_answers_409_when_the_activity_was_already_answered(client, ask, eva):
    activity = ask()
    activity_decline(activity=activity, actor=Actor.system("test"))

    response = _as(client, eva).post(_page(activity), {"accepted_details": ["first_name"], "sharing_period": "P7D"})
    assert response.status_code == 409
    assert "no longer waiting for an answer" in response.content.decode()
    response = client.post(_page(activity, "decline"))
    assert response.status_code == 409
    assert 'role="alert"' in response.content.decode()
    assert _reload(activity).status == ActivityStatus.DECLINED


def test_it_treats_an_overdue_request_as_canceled_before_the_sweep(client, ask, eva):
    activity = ask(valid_for=timedelta(hours=1))

    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        client = _as(client, eva)
        assert _section(client.get("/me/").content.decode(), "Requests waiting for you").count("<li") == 0
        page = client.get(_page(activity)).content.decode()
        assert 'data-status="CANCELED"' in page and "Accept and share" not in page
        response = client.post(_page(activity), {"accepted_details": ["first_name"], "sharing_period": "P7D"})

    assert response.status_code == 409
    assert _reload(activity).status == ActivityStatus.PENDING


# --- Sharing: revoke and complete -----------------------------------------------------------------


def _accepted(ask, **kwargs: Any) -> Activity:
    return activity_accept(
        activity=ask(**kwargs),
        accepted_details=["first_name", "date_of_birth"],
        sharing_period=timedelta(days=7),
        actor=Actor.system("test"),
    )


def test_the_activity_page_shows_what_is_shared_until_when(client, ask, eva):
    activity = _accepted(ask)

    html = _as(client, eva).get(_page(activity)).content.decode().replace("\xa0", " ")

    assert 'data-status="ACCEPTED"' in html
    assert "What you share with Bruno Banker" in html
    assert "24 Dec 1985" in html and "6 days, 23 hours left" in html
    assert "End this sharing now…" in html and "Mark as done" in html
    receipt = ConsentReceipt.objects.get(activity=activity)
    assert f"/me/receipts/{receipt.pk}/" in html


@pytest.mark.parametrize("who", ["eva", "bruno"])
def test_a_party_revokes_a_sharing_early(client, ask, request, who):
    activity = _accepted(ask)
    person = request.getfixturevalue(who)

    response = _as(client, person).post(_page(activity, "revoke"), {"confirm": "1"})

    assert response.status_code == 302 and response["Location"] == "/me/"
    activity = _reload(activity)
    assert activity.status == ActivityStatus.EXPIRED
    row = Transition.objects.filter(object_id=str(activity.pk)).latest("id")
    assert (row.to_state, row.reason, row.actor_id) == ("EXPIRED", "revoked", str(person.pk))
    assert not SharedSnapshot.objects.filter(activity=activity).exists()
    html = client.get("/me/").content.decode()
    assert "The shared values have been deleted" in html
    assert "You are not sharing anything right now." in html
    assert 'data-status="EXPIRED"' in _section(html, "History") and ">Revoked</span>" in _section(html, "History")
    # The receipt outlives the sharing.
    assert ConsentReceipt.objects.filter(activity=activity).exists()
    page = _as(client, activity.receptor.person).get(_page(activity)).content.decode()
    assert "24 Dec 1985" not in page
    assert "The sharing was ended early and the shared values have been deleted." in page


def test_it_answers_409_when_revoking_what_is_not_shared(client, ask, eva):
    activity = ask()

    response = _as(client, eva).post(_page(activity, "revoke"), {"confirm": "1"})

    assert response.status_code == 409
    assert "Nothing is being shared, so there is nothing to end: it is action required." in response.content.decode()
    assert _reload(activity).status == ActivityStatus.PENDING


def test_revoking_asks_for_a_confirmation_first(client, ask, eva):
    activity = _accepted(ask)

    for response in (_as(client, eva).get(_page(activity, "revoke")), client.post(_page(activity, "revoke"))):
        assert response.status_code == 200
        html = response.content.decode()
        assert "End this sharing?" in html and "Yes, end the sharing" in html
        assert '<input type="hidden" name="confirm" value="1">' in html
    assert _reload(activity).status == ActivityStatus.ACCEPTED


def test_both_parties_mark_it_done_and_it_is_completed(client, ask, eva, bruno):
    activity = _accepted(ask)

    response = _as(client, eva).post(_page(activity, "complete"))
    assert response.status_code == 302
    assert _reload(activity).status == ActivityStatus.ACCEPTED
    assert "completed once Bruno Banker does too" in client.get(_page(activity)).content.decode()

    _as(client, bruno).post(_page(activity, "complete"))

    assert _reload(activity).status == ActivityStatus.COMPLETED
    shared = _section(client.get("/me/").content.decode(), "Shared now")
    assert 'data-status="COMPLETED"' in shared  # still shared until the period ends


# --- Receipts ---------------------------------------------------------------------------------------


def test_the_receipt_page_and_its_json_download(client, ask, eva):
    activity = _accepted(ask)
    receipt = ConsentReceipt.objects.get(activity=activity)

    page = _as(client, eva).get(f"/me/receipts/{receipt.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    for text in (
        "What you shared with Bruno Banker",
        "Acme Bank",
        "First name, Date of birth",
        "Open a savings account",
    ):
        assert text in html
    assert "1985-12-24" not in html  # a receipt names the fields, never the values

    response = client.get(f"/me/receipts/{receipt.pk}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"] == f'attachment; filename="consent-receipt-{receipt.pk}.json"'
    body = json.loads(response.content)
    assert body == receipt.as_json()
    assert body["details"] == ["first_name", "date_of_birth"]
    assert body["recipient"] == "Bruno Banker" and body["purpose"] == "Open a savings account"
    assert body["sharing_until"] == activity.sharing_until.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("suffix", ["/", ".json"])
def test_a_receipt_is_only_its_persons(client, ask, bruno, olga, suffix):
    receipt = ConsentReceipt.objects.get(activity=_accepted(ask))

    # Not even the recipient's: the receipt is the giver's record.
    assert _as(client, bruno).get(f"/me/receipts/{receipt.pk}{suffix}").status_code == 404
    assert _as(client, olga).get(f"/me/receipts/{receipt.pk}{suffix}").status_code == 404


# --- Share, swap, authorization ---------------------------------------------------------------------


def test_a_share_shows_what_was_shared_with_me(client, ask, eva, bruno):
    activity = ask(ActivityType.SHARE)

    html = _as(client, eva).get("/me/").content.decode()
    shared = _section(html, "Shared now")
    assert "You receive: First name, Email address" in shared
    page = client.get(_page(activity)).content.decode()
    assert "Bruno Banker shared details with you" in page
    assert "What Bruno Banker shares with you" in page and "bruno@example.com" in page
    # The giver has a receipt; the receiver has none.
    assert ConsentReceipt.objects.get(activity=activity).person == bruno
    assert "Each time you share details you get a receipt here." in html


def test_a_swap_shows_the_offer_and_then_both_sides(client, ask, eva):
    activity = ask(ActivityType.SWAP)

    page = _as(client, eva).get(_page(activity)).content.decode()
    offer = _section(page, "In exchange, Bruno Banker shares with you")
    assert "First name" in offer and "Email address" in offer
    assert "bruno@example.com" not in page  # values only once accepted

    response = client.post(
        _page(activity), {"accepted_details": ["first_name", "nationality"], "sharing_period": "P1D"}
    )

    assert response.status_code == 302
    page = client.get(_page(activity)).content.decode()
    assert "What you share with Bruno Banker" in page and "Netherlands" in page and "NLD" not in page
    assert "What Bruno Banker shares with you" in page and "bruno@example.com" in page
    # Once accepted, the headline says what happened, no longer what is proposed.
    assert "You swapped details with Bruno Banker" in page and "proposes to swap" not in page
    assert ConsentReceipt.objects.filter(activity=activity).count() == 2  # one per giver


def test_an_authorization_shows_its_description_and_is_approved_without_a_period(client, ask, eva):
    activity = ask(ActivityType.AUTHORIZATION)

    page = _as(client, eva).get(_page(activity)).content.decode()
    assert "Bruno Banker asks for your authorization" in page
    assert "Transfer 500 EUR to NL01BANK0123" in page
    assert "sharing_period" not in page and "Details you would share" not in page
    assert ">Approve</button>" in page

    response = client.post(_page(activity))

    assert response.status_code == 302
    activity = _reload(activity)
    assert activity.status == ActivityStatus.ACCEPTED and activity.sharing_until is None
    shared = _section(client.get("/me/").content.decode(), "Shared now")
    assert "Transfer 500 EUR" in shared and "Until you revoke it" in shared
    receipts = _section(client.get("/me/").content.decode(), "Consent receipts")
    assert "Authorization approved on" in receipts
    receipt = ConsentReceipt.objects.get(activity=activity)
    assert receipt.details == [] and receipt.purpose == "Authorized: Transfer 500 EUR to NL01BANK0123"
    assert "None: you approved an authorization" in client.get(f"/me/receipts/{receipt.pk}/").content.decode()


def test_an_authorization_with_bioface_needs_an_accepted_face_check(client, ask, eva, eva_identity, settings):
    settings.ACTIVITIES_BIOFACE_PROVIDER = "sandbox"
    activity = ask(
        ActivityType.AUTHORIZATION, authorization={"description": "Sign the mortgage deed", "requires_bioface": True}
    )
    client = _as(client, eva)

    page = client.get(_page(activity)).content.decode()
    assert "Start the face check" in page
    assert re.search(r"<button[^>]*disabled[^>]*>Approve</button>", page)
    # The server refuses too, whatever the page shows.
    assert client.post(_page(activity)).status_code == 409
    assert _reload(activity).status == ActivityStatus.PENDING

    response = client.post(_page(activity, "bioface"))

    process = VerificationProcess.objects.get(activity=activity)
    assert (process.provider, process.identity_id, process.organization_id) == (
        "sandbox",
        eva_identity.pk,
        activity.organization_id,
    )
    assert process.redirect_url == f"http://testserver{_page(activity)}"
    assert response.status_code == 302
    assert response["Location"].startswith(f"http://testserver/verify/{process.pk}/")
    # Starting again continues the open process rather than opening another.
    client.post(_page(activity, "bioface"))
    assert VerificationProcess.objects.filter(activity=activity).count() == 1
    assert "Continue the face check" in client.get(_page(activity)).content.decode()

    process_sandbox_choose(process=process, provider="facetec", sample="rejected")
    page = client.get(_page(activity)).content.decode()
    assert "Your last face check was rejected" in page
    assert client.post(_page(activity)).status_code == 409

    client.post(_page(activity, "bioface"))
    retry = VerificationProcess.objects.filter(activity=activity).latest("created_at")
    process_sandbox_choose(process=retry, provider="facetec", sample="accepted")
    page = client.get(_page(activity)).content.decode()
    assert "Your face check was accepted. You can now approve." in page
    assert "You can try again" not in page
    assert not re.search(r"<button[^>]*disabled[^>]*>Approve</button>", page)

    assert client.post(_page(activity)).status_code == 302
    assert _reload(activity).status == ActivityStatus.ACCEPTED


def test_the_face_check_uses_facetec_by_default(client, ask, eva):
    activity = ask(ActivityType.AUTHORIZATION, authorization={"description": "Sign", "requires_bioface": True})

    _as(client, eva).post(_page(activity, "bioface"))

    assert VerificationProcess.objects.get(activity=activity).provider == "facetec"


def test_a_face_check_is_refused_where_none_is_needed(client, ask, eva):
    activity = ask(ActivityType.AUTHORIZATION)

    response = _as(client, eva).post(_page(activity, "bioface"))

    assert response.status_code == 409
    assert not VerificationProcess.objects.exists()


# --- Status words, the missing-detail path, identical sharings, Spanish -------------------------


def test_it_names_how_a_request_ended(client, ask, eva, bruno):
    from apps.activities.services import activities_cancel_overdue, activity_withdraw

    withdrawn = ask()
    activity_withdraw(activity=withdrawn, actor=Actor.user(bruno))
    timed_out = ask()
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        unswept = _as(client, eva).get(_page(timed_out)).content.decode()
        activities_cancel_overdue()
        swept = client.get(_page(timed_out)).content.decode()

    assert ">Not answered in time</span>" in unswept and ">Not answered in time</span>" in swept
    assert "The request was not answered in time. Nothing was shared." in swept
    page = client.get(_page(withdrawn)).content.decode()
    assert ">Withdrawn</span>" in page and "Bruno Banker withdrew the request." in page
    # The API's status stays what it is: only the words on the page tell them apart.
    assert page.count('data-status="CANCELED"') == 1 and ">Canceled<" not in page


def test_a_missing_required_detail_disables_accept_and_leads_to_the_detail_and_back(client, ask, eva):
    activity = ask(requirements=[{"detail": "phone", "required": True}])

    html = _as(client, eva).get(_page(activity)).content.decode()

    assert re.search(
        r'<button type="submit" class="button" disabled aria-describedby="missing-help">Accept and share', html
    )
    link = f"/me/details/?next=%2Fme%2Factivities%2F{activity.pk}%2F#id_phone"
    assert f'href="{link}"' in html and ">Add it<" in html

    form = client.get(link.split("#")[0]).content.decode()
    assert f'<input type="hidden" name="next" value="/me/activities/{activity.pk}/">' in form
    assert "Back to the request" in form
    response = client.post(
        "/me/details/", {"first_name": "Eva", "phone": "+34600000000", "next": f"/me/activities/{activity.pk}/"}
    )
    assert response.status_code == 302 and response["Location"] == f"/me/activities/{activity.pk}/"
    html = client.get(_page(activity)).content.decode()
    assert 'disabled aria-describedby="missing-help"' not in html and ">Accept and share</button>" in html


@pytest.mark.parametrize("next_url", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"])
def test_the_return_link_never_leaves_the_site(client, eva, next_url):
    form = _as(client, eva).get("/me/details/", {"next": next_url}).content.decode()
    assert f'name="next" value="{next_url}"' not in form and f'href="{next_url}"' not in form
    assert "Back to the request" not in form

    response = client.post("/me/details/", {"first_name": "Eva", "next": next_url})
    assert response.status_code == 302 and response["Location"] == "/me/"


def test_identical_sharings_are_one_row_and_end_together(client, ask, eva):
    first, second = _accepted(ask), _accepted(ask)

    html = _as(client, eva).get("/me/").content.decode()

    shared = _section(html, "Shared now")
    assert shared.count('class="item sharing-row"') == 1 and 'data-count="2"' in shared
    assert "You agreed to this 2 times; it is shown once." in shared
    url = re.search(r'href="(/me/activities/[^"]+/revoke\?all=1)"', shared).group(1)
    assert "This ends all 2 sharings" in client.get(url).content.decode()
    response = client.post(url.split("?")[0], {"confirm": "1", "all": "1"})
    assert response.status_code == 302
    assert {_reload(first).status, _reload(second).status} == {ActivityStatus.EXPIRED}


def test_a_spanish_person_meets_no_code_and_no_english_on_the_consent_screen(client, ask, eva):
    activity = ask(ActivityType.SWAP)
    client = _as(client, eva)
    client.cookies["django_language"] = "es"
    client.cookies["tz"] = "Europe/Madrid"

    html = client.get(_page(activity)).content.decode()

    assert "Bruno Banker te propone intercambiar datos" in html
    assert "Países Bajos" in html and "NLD" not in html
    assert "CET" in html and "UTC" not in html
    assert "Decline" not in html and "Rechazar…" in html
    response = client.post(
        _page(activity), {"accepted_details": ["first_name", "nationality"], "sharing_period": "P1D"}
    )
    assert response.status_code == 302
    page = client.get(_page(activity)).content.decode()
    assert "Has intercambiado datos con Bruno Banker" in page and "Países Bajos" in page
