"""A person starts a share (AT_002) or a swap (AT_003) from /me/ (issue 15): the person's own act
replaces the API's, which may share only for managed identities.

Personas: Noor (a person behind a non-managed identity of Acme), Bruno (Acme's advisor, a
managed identity with a person behind it) who once asked Noor for details, Olga (another member
of Acme whom Noor never dealt with) and Gus (a member of another organization)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from apps.activities.models import Activity, ActivityStatus, ActivityType, ConsentReceipt, SharedSnapshot
from apps.activities.services import activity_accept, activity_create
from apps.audit.models import Transition
from apps.audit.services import Actor, transition_apply
from apps.identities.services import identity_activate
from apps.people.services import person_set_details
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.django_db

NOOR = {"first_name": "Noor", "last_name": "Bakker", "email": "noor@example.com", "phone": "+31600000001"}
BRUNO = {"first_name": "Bruno", "last_name": "Banker", "email": "bruno@example.com", "nationality": "ESP"}
OLGA = {"first_name": "Olga", "last_name": "Outsider", "email": "olga@example.com"}


def _party(org, account: str, *, managed: bool, **details: str):
    identity = make_identity(
        org, email=account, first_name=details["first_name"], last_name=details["last_name"], managed=managed
    )
    person = make_person(account)
    person_set_details(person=person, details=details)
    return identity_activate(identity=identity, person=person)


@pytest.fixture
def noor_identity(org):
    return _party(org, "noor@example.com", managed=False, **NOOR)


@pytest.fixture
def bruno_identity(org):
    return _party(org, "bruno@example.com", managed=True, **BRUNO)


@pytest.fixture
def olga_identity(org):
    return _party(org, "olga@example.com", managed=False, **OLGA)


@pytest.fixture
def earlier_request(org, bruno_identity, noor_identity):
    """Bruno once asked Noor for her first name: that is how Noor knows him."""
    return activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=bruno_identity.pk,
        receptor_id=noor_identity.pk,
        requirements=[{"detail": "first_name", "required": True}],
        actor=Actor.system("test"),
    )


@pytest.fixture
def noor(client, noor_identity, earlier_request, olga_identity) -> Client:
    client.force_login(noor_identity.person)
    return client


def _choice(own, other) -> str:
    return f"{own.pk}:{other.pk}"


def _share_form(noor_identity, bruno_identity, **extra) -> dict:
    return {
        "counterpart": _choice(noor_identity, bruno_identity),
        "offered_details": ["first_name", "phone"],
        "sharing_period": "P30D",
        "purpose": "For my mortgage file",
        **extra,
    }


def _created() -> list[Activity]:
    return list(Activity.objects.exclude(type=ActivityType.REQUEST))


# --- Whom a person may choose ------------------------------------------------------------------


def test_it_lists_only_the_people_the_person_already_dealt_with(noor, noor_identity):
    page = noor.get("/me/share/").content.decode()

    assert "Bruno Banker, Acme Bank" in page
    assert "Olga" not in page  # a member of the same organization Noor never dealt with
    assert "Noor Bakker, Acme Bank" not in page  # never herself
    # Her own details, with their values, are what she can offer.
    assert 'name="offered_details" value="phone"' in page and "+31600000001" in page


def test_it_says_so_when_there_is_no_one_to_share_with(client, noor_identity):
    client.force_login(noor_identity.person)

    response = client.get("/me/share/")

    assert response.status_code == 200
    assert 'id="no-counterparts"' in response.content.decode()
    assert 'name="counterpart"' not in response.content.decode()


def test_it_leaves_out_counterparts_who_are_no_longer_active(noor, bruno_identity):
    transition_apply(bruno_identity, "deactivate", actor=Actor.system("test"))

    assert 'id="no-counterparts"' in noor.get("/me/share/").content.decode()


def test_the_page_is_for_signed_in_people_only(client):
    response = client.get("/me/share/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


# --- Share: choose, review, confirm ----------------------------------------------------------------


def test_a_person_shares_after_a_review_and_a_confirmation(noor, noor_identity, bruno_identity):
    review = noor.post("/me/share/", _share_form(noor_identity, bruno_identity))

    assert review.status_code == 200
    page = review.content.decode()
    assert "Check before you confirm" in page
    assert "Bruno Banker will see these details" in page
    assert "+31600000001" in page  # the value that would leave, shown before it leaves
    assert 'name="confirm"' in page
    assert _created() == []  # nothing before the confirmation

    done = noor.post("/me/share/", {**_share_form(noor_identity, bruno_identity), "confirm": "yes"})

    [activity] = _created()
    assert done.status_code == 302
    assert done["Location"] == f"/me/activities/{activity.pk}/"
    assert (activity.type, activity.status) == (ActivityType.SHARE, ActivityStatus.ACCEPTED)
    assert (activity.initiator_id, activity.receptor_id) == (noor_identity.pk, bruno_identity.pk)
    assert activity.offered_details == ["first_name", "phone"]
    assert activity.purpose == "For my mortgage file"
    assert timedelta(days=29, hours=23) < activity.sharing_until - timezone.now() <= timedelta(days=30)
    assert SharedSnapshot.objects.get(activity=activity).values == {"first_name": "Noor", "phone": "+31600000001"}
    receipt = ConsentReceipt.objects.get(activity=activity)
    assert (receipt.person_id, receipt.details) == (noor_identity.person_id, ["first_name", "phone"])
    # The same audit row (and so the same activity.status_changed event) as the API writes, by Noor.
    row = Transition.objects.get(object_id=str(activity.pk))
    assert (row.from_state, row.to_state, row.reason) == ("", "ACCEPTED", "created")
    assert (row.event_type, row.actor_type, row.actor_id) == (
        "activity.status_changed",
        "user",
        str(noor_identity.person_id),
    )


def test_the_receptor_sees_the_share_on_their_page(client, noor, noor_identity, bruno_identity):
    noor.post("/me/share/", {**_share_form(noor_identity, bruno_identity), "confirm": "yes"})
    [activity] = _created()

    bruno = Client()
    bruno.force_login(bruno_identity.person)
    page = bruno.get(f"/me/activities/{activity.pk}/").content.decode()

    assert "Noor Bakker shared details with you" in page
    assert "+31600000001" in page


def test_change_goes_back_to_the_choices_without_creating_anything(noor, noor_identity, bruno_identity):
    response = noor.post("/me/share/", {**_share_form(noor_identity, bruno_identity), "edit": "yes"})

    page = response.content.decode()
    assert response.status_code == 200
    ticked = {
        m[1]: " checked" in m[0] for m in re.finditer(r'<input[^>]*name="offered_details" value="(\w+)"[^>]*>', page)
    }
    assert ticked == {"first_name": True, "last_name": False, "email": False, "phone": True}
    assert 'role="alert"' not in page
    assert _created() == []


def test_it_shows_each_error_next_to_its_field(noor):
    response = noor.post("/me/share/", {"confirm": "yes"})

    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="counterpart-error"' in page and "Choose whom to share with." in page
    assert 'id="offered-error"' in page and "Choose at least one detail to share." in page
    assert 'id="period-error"' in page and "Choose how long the details are shared." in page
    assert _created() == []


# --- Swap ---------------------------------------------------------------------------------------


def test_a_person_proposes_a_swap_that_the_receptor_answers(noor, noor_identity, bruno_identity):
    form = {
        "counterpart": _choice(noor_identity, bruno_identity),
        "offered_details": ["email"],
        "requested_details": ["first_name", "nationality"],
    }
    review = noor.post("/me/swap/", form)
    assert "In exchange you ask for" in review.content.decode()
    assert _created() == []

    noor.post("/me/swap/", {**form, "confirm": "yes"})

    [activity] = _created()
    assert (activity.type, activity.status) == (ActivityType.SWAP, ActivityStatus.PENDING)
    assert activity.requirements == [
        {"detail": "first_name", "required": False},
        {"detail": "nationality", "required": False},
    ]
    assert not SharedSnapshot.objects.filter(activity=activity).exists()  # nothing before the answer

    activity_accept(
        activity=activity, accepted_details=["first_name"], sharing_period=timedelta(days=7), actor=Actor.system("t")
    )
    snapshots = {s.giver: s.values for s in SharedSnapshot.objects.filter(activity=activity)}
    assert snapshots == {"receptor": {"first_name": "Bruno"}, "initiator": {"email": "noor@example.com"}}


def test_a_swap_needs_requested_details(noor, noor_identity, bruno_identity):
    response = noor.post(
        "/me/swap/", {"counterpart": _choice(noor_identity, bruno_identity), "offered_details": ["email"]}
    )

    assert response.status_code == 400
    assert 'id="requested-error"' in response.content.decode()


# --- An attacker's tampered form ------------------------------------------------------------------


@pytest.mark.parametrize(
    "counterpart",
    ["olga", "gus", "as-olga", "as-bruno"],
    ids=["member-never-met", "other-organization", "acting-as-someone-else", "reversed"],
)
def test_a_tampered_counterpart_is_refused(
    noor, org, noor_identity, bruno_identity, olga_identity, earlier_request, counterpart
):
    gus = _party(OrganizationFactory(slug="globex"), "gus@example.com", managed=True, first_name="Gus", last_name="G")
    choice = {
        "olga": _choice(noor_identity, olga_identity),
        "gus": _choice(noor_identity, gus),
        # Olga's identity as the initiator: Noor would share someone else's details.
        "as-olga": _choice(olga_identity, bruno_identity),
        "as-bruno": _choice(bruno_identity, noor_identity),
    }[counterpart]

    response = noor.post("/me/share/", {**_share_form(noor_identity, bruno_identity), "counterpart": choice})
    confirmed = noor.post(
        "/me/share/", {**_share_form(noor_identity, bruno_identity), "counterpart": choice, "confirm": "yes"}
    )

    for answer in (response, confirmed):
        assert answer.status_code == 400
        assert "Choose one of the people listed." in answer.content.decode()
    assert _created() == []


def test_only_details_the_person_holds_can_be_offered(noor, noor_identity, bruno_identity):
    response = noor.post(
        "/me/share/",
        {**_share_form(noor_identity, bruno_identity), "offered_details": ["date_of_birth"], "confirm": "yes"},
    )

    assert response.status_code == 400
    assert "You can only share details you have added to your page." in response.content.decode()
    assert _created() == []


def test_a_counterpart_deactivated_before_the_confirmation_gets_a_clear_answer(noor, noor_identity, bruno_identity):
    noor.post("/me/share/", _share_form(noor_identity, bruno_identity))
    transition_apply(bruno_identity, "deactivate", actor=Actor.system("test"))

    response = noor.post("/me/share/", {**_share_form(noor_identity, bruno_identity), "confirm": "yes"})

    assert response.status_code == 400  # no longer among the choices
    assert _created() == []


def test_the_forms_refuse_a_post_without_the_csrf_token(noor_identity, bruno_identity, earlier_request):
    client = Client(enforce_csrf_checks=True)
    client.force_login(noor_identity.person)

    response = client.post("/me/share/", {**_share_form(noor_identity, bruno_identity), "confirm": "yes"})

    assert response.status_code == 403
    assert _created() == []


# --- Spanish ------------------------------------------------------------------------------------


def test_the_pages_speak_spanish(noor, noor_identity, bruno_identity):
    noor.cookies["django_language"] = "es"

    # LocaleMiddleware leaves the language active in this thread; override() puts English back.
    with translation.override("en"):
        form = noor.get("/me/share/").content.decode()
        review = noor.post("/me/share/", _share_form(noor_identity, bruno_identity)).content.decode()
        errors = noor.post("/me/swap/", {"confirm": "yes"}).content.decode()

    assert "Compartir mis datos" in form
    assert "Revisa antes de confirmar" in review
    assert "Elige con quién compartir." in errors
