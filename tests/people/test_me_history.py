"""/me/ also lists what the person answered outside activities (data-transfer sessions,
identifications), and deleting the account reaches those too."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.activities.models import Activity, ActivityStatus, ActivityType, SharedSnapshot
from apps.activities.services import activity_accept, activity_create
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.identifications.services import ActorData, identification_create
from apps.identities.services import identity_activate
from apps.people.services import person_set_details
from apps.portal.services import person_delete
from apps.transfers.models import SessionStatus, TransferSession
from apps.transfers.services import session_answer, session_create, session_retrieve
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def eva(org):
    person = make_person("eva@example.com", first_name="Eva", last_name="Smit", nationality="NLD")
    return identity_activate(identity=make_identity(org, email="eva@example.com"), person=person).person


def _confirmed_session(org, person) -> TransferSession:
    session, _ = session_create(organization=org, scopes=["first_name", "nationality"], actor=Actor.system("test"))
    session = session_retrieve(session=session, person=person)
    return session_answer(session=session, person=person, decision="confirmed", accepted_scopes=["first_name"])


def test_me_lists_answered_sessions_and_identifications(client, org, eva):
    _confirmed_session(org, eva)
    identification_create(
        organization=OrganizationFactory(slug="gov", name="City Hall"),
        actor_data=ActorData(name="Eva", surname="Smit", email="EVA@example.com", phone="", document_number=""),
        channel="EMAIL",
        expires_in=timedelta(hours=1),
        actor=Actor.system("test"),
    )
    client.force_login(eva)

    html = client.get("/me/").content.decode()

    sessions = html[html.index('id="sessions"') :]
    assert "Acme Bank" in sessions and 'data-status="confirmed"' in sessions
    assert "You shared: First name" in sessions
    identifications = html[html.index('id="identifications"') :]
    assert "City Hall" in identifications and 'data-status="CREATED"' in identifications


def test_deleting_purges_confirmed_session_data_and_expires_open_sessions(org, eva):
    confirmed = _confirmed_session(org, eva)
    assert confirmed.data == {"first_name": "Eva"}
    opened, _ = session_create(organization=org, scopes=["first_name"], actor=Actor.system("test"))
    opened = session_retrieve(session=opened, person=eva)

    person_delete(person=eva)

    confirmed.refresh_from_db()
    assert confirmed.data is None and confirmed.data_purged_at is not None and confirmed.person_id is None
    opened.refresh_from_db()
    assert opened.status == SessionStatus.EXPIRED
    assert Transition.objects.filter(object_id=str(opened.pk), reason="account deleted").exists()


def test_deleting_ends_a_sharing_past_its_end_that_the_sweep_has_not_reached(org, eva):
    bruno = identity_activate(
        identity=make_identity(org, email="bruno@example.com", first_name="Bruno"),
        person=make_person("bruno@example.com"),
    )
    person_set_details(person=bruno.person, details={"first_name": "Bruno"})
    eva_identity = eva.identities.get()
    activity = activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=bruno.pk,
        receptor_id=eva_identity.pk,
        requirements=[{"detail": "first_name", "required": True}],
        actor=Actor.system("test"),
    )
    activity_accept(activity=activity, sharing_period=timedelta(days=1), actor=Actor.user(eva))

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        person_delete(person=eva)

    activity = Activity.objects.get(pk=activity.pk)
    assert activity.status == ActivityStatus.EXPIRED
    assert not SharedSnapshot.objects.filter(activity=activity).exists()
    assert Transition.objects.filter(object_id=str(activity.pk), reason="sharing period ended").exists()


def test_the_goodbye_page_is_public(db):
    response = Client().get("/me/deleted/")

    assert response.status_code == 200
    assert "Your account has been deleted" in response.content.decode()
