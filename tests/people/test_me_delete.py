"""Deleting an account from /me/delete/: every sharing ends (audited), the data goes, sign-in stops."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client

from apps.activities.models import Activity, ActivityStatus, ActivityType, ConsentReceipt, SharedSnapshot
from apps.activities.services import activity_accept, activity_create
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import identity_activate
from apps.people.models import PersonalDetail, User
from apps.people.services import person_set_details
from apps.portal.services import AccountNotDeletable, person_delete
from tests.factories import make_identity, make_person

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"
EVA = {"first_name": "Eva", "last_name": "Smit", "date_of_birth": "1985-12-24", "nationality": "NLD"}
BRUNO = {"first_name": "Bruno", "last_name": "Banker", "email": "bruno@example.com", "nationality": "ESP"}
OLGA = {"first_name": "Olga", "last_name": "Otra", "nationality": "PRT"}


def _party(org, account: str, **details: str) -> ExternalPersonalIdentity:
    identity = make_identity(org, email=account, first_name=details["first_name"], last_name=details["last_name"])
    person = make_person(account, PASSWORD)
    person_set_details(person=person, details=details)
    return identity_activate(identity=identity, person=person)


@pytest.fixture
def world(org):
    """Eva shares with Bruno (two sharings), has one request waiting and sent one; Bruno and Olga
    share between themselves, which Eva's deletion must leave alone."""
    eva, bruno, olga = _party(org, "eva@example.com", **EVA), _party(org, "bruno@example.com", **BRUNO), None
    olga = _party(org, "olga@example.com", **OLGA)
    system = Actor.system("test")

    def request(initiator, receptor, **kwargs):
        return activity_create(
            organization=org,
            type=ActivityType.REQUEST,
            initiator_id=initiator.pk,
            receptor_id=receptor.pk,
            requirements=[{"detail": "first_name", "required": True}, {"detail": "nationality", "required": False}],
            actor=system,
            **kwargs,
        )

    shared = activity_accept(
        activity=request(bruno, eva), sharing_period=timedelta(days=30), actor=Actor.user(eva.person)
    )
    received = activity_create(
        organization=org,
        type=ActivityType.SHARE,
        initiator_id=bruno.pk,
        receptor_id=eva.pk,
        offered_details=["first_name", "email"],
        sharing_period=timedelta(days=7),
        actor=system,
    )
    waiting = request(bruno, eva)
    sent = request(eva, bruno)
    others = activity_accept(
        activity=request(bruno, olga), sharing_period=timedelta(days=30), actor=Actor.user(olga.person)
    )
    return {
        "eva": eva,
        "bruno": bruno,
        "olga": olga,
        "shared": shared,
        "received": received,
        "waiting": waiting,
        "sent": sent,
        "others": others,
    }


def _reload(activity: Activity) -> Activity:
    return Activity.objects.get(pk=activity.pk)


def _signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


def test_the_service_ends_every_sharing_through_the_audited_state_machine(world):
    eva = world["eva"].person
    eva_id = str(eva.pk)

    counts = person_delete(person=eva)

    assert counts["sharings_ended"] == 2 and counts["requests_closed"] == 2
    for key in ("shared", "received"):
        activity = _reload(world[key])
        assert activity.status == ActivityStatus.EXPIRED
        assert not SharedSnapshot.objects.filter(activity=activity).exists()
        row = Transition.objects.filter(object_id=str(activity.pk), to_state=ActivityStatus.EXPIRED).get()
        assert row.reason == "revoked"
        assert row.actor_type == "user" and row.actor_id == eva_id
    assert _reload(world["waiting"]).status == ActivityStatus.DECLINED
    assert _reload(world["sent"]).status == ActivityStatus.CANCELED


def test_the_service_purges_details_receipts_and_the_account(world):
    eva = world["eva"].person
    eva_id = eva.pk
    assert ConsentReceipt.objects.filter(person=eva).exists()

    person_delete(person=eva)

    assert not User.objects.filter(pk=eva_id).exists()
    assert not PersonalDetail.objects.filter(person_id=eva_id).exists()
    assert not ConsentReceipt.objects.filter(person_id=eva_id).exists()


def test_the_service_deactivates_and_unlinks_their_identities(world):
    identity = world["eva"]

    person_delete(person=identity.person)

    identity.refresh_from_db()
    assert identity.state == IdentityState.DEACTIVATED
    assert identity.person_id is None
    row = Transition.objects.get(
        content_type=ContentType.objects.get_for_model(ExternalPersonalIdentity),
        object_id=str(identity.pk),
        to_state=IdentityState.DEACTIVATED,
    )
    assert row.reason == "account deleted"


def test_the_audit_rows_keep_no_personal_value(world):
    before = set(Transition.objects.values_list("pk", flat=True))

    person_delete(person=world["eva"].person)

    rows = Transition.objects.exclude(pk__in=before)
    assert rows.count() == 5  # 2 sharings, 1 declined, 1 withdrawn, 1 identity
    text = " ".join(f"{r.data} {r.reason} {r.actor_label}" for r in rows)
    for value in [*EVA.values(), "eva@example.com"]:
        assert value not in text


def test_the_service_leaves_other_peoples_data_alone(world):
    bruno, olga, others = world["bruno"], world["olga"], world["others"]
    details_before = {
        p: set(PersonalDetail.objects.filter(person=p).values_list("name", "value"))
        for p in (bruno.person, olga.person)
    }

    person_delete(person=world["eva"].person)

    assert _reload(others).status == ActivityStatus.ACCEPTED
    assert SharedSnapshot.objects.filter(activity=others).exists()
    for person, details in details_before.items():
        assert set(PersonalDetail.objects.filter(person=person).values_list("name", "value")) == details
    for identity in (bruno, olga):
        identity.refresh_from_db()
        assert identity.state == IdentityState.ACTIVE and identity.person_id
    assert ConsentReceipt.objects.filter(person=olga.person).exists()


def test_the_service_refuses_staff_accounts(db):
    staff = make_person("staff@example.com", PASSWORD)
    staff.is_staff = True
    staff.save()

    with pytest.raises(AccountNotDeletable):
        person_delete(person=staff)
    assert User.objects.filter(pk=staff.pk).exists()


# --- The pages --------------------------------------------------------------------------


def test_the_confirm_page_says_what_will_happen(world):
    html = _signed_in(world["eva"].person).get("/me/delete/").content.decode()

    assert "Delete my account" in html
    assert "the 2 sharings that are active now end" in html
    assert "the 2 requests still waiting are declined or withdrawn" in html
    assert 'type="password"' in html and 'autocomplete="current-password"' in html


@pytest.mark.parametrize("password", ["", "wrong-password"])
def test_a_wrong_password_deletes_nothing(world, password):
    eva = world["eva"].person
    client = _signed_in(eva)

    response = client.post("/me/delete/", {"password": password})

    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert User.objects.filter(pk=eva.pk).exists()
    assert _reload(world["shared"]).status == ActivityStatus.ACCEPTED


def test_deleting_signs_out_shows_goodbye_and_sign_in_no_longer_works(world):
    eva = world["eva"].person
    client = _signed_in(eva)

    response = client.post("/me/delete/", {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [("/me/deleted/", 302)]
    assert "Your account has been deleted" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert client.get("/me/").status_code == 302
    login = client.post("/accounts/login/", {"username": "eva@example.com", "password": PASSWORD})
    assert login.status_code == 200 and login.context["form"].errors
    assert "_auth_user_id" not in client.session


def test_the_delete_page_needs_sign_in_and_post_for_deletion(world):
    assert Client().post("/me/delete/", {"password": PASSWORD}).status_code == 302
    assert User.objects.filter(pk=world["eva"].person.pk).exists()
