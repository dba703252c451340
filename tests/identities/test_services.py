"""The identity services: one audited transition per change, invitations after commit."""

from __future__ import annotations

import threading
import time

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection, connections

from apps.audit import services as audit_services
from apps.audit.errors import StateConflict
from apps.audit.models import ActorType, Transition
from apps.audit.selectors import transitions_for
from apps.audit.services import Actor
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import (
    DuplicateIdentity,
    identity_activate,
    identity_create,
    identity_resend_invitation,
    identity_send_invitation,
    identity_transition_by_staff,
    identity_update,
)
from apps.organizations.models import Organization
from tests.factories import make_identity, make_person

ACTOR = Actor.system("test")


def _create(org: Organization, email: str = "ana@example.com", **kwargs) -> ExternalPersonalIdentity:
    return identity_create(
        organization=org,
        email_address=email,
        first_name=kwargs.get("first_name", "Ana"),
        last_name=kwargs.get("last_name", "García"),
        managed=kwargs.get("managed", True),
        actor=kwargs.get("actor", ACTOR),
    )


def _active(org: Organization) -> ExternalPersonalIdentity:
    identity = make_identity(org)
    return identity_activate(identity=identity, person=make_person(email=identity.email_address))


@pytest.mark.django_db
class TestCreate:
    def test_it_creates_an_invited_identity_and_logs_it_once(self, org):
        identity = _create(org, email=" Ana@Example.COM ")

        identity.refresh_from_db()
        assert identity.state == IdentityState.INVITED
        assert identity.email_address == "ana@example.com"
        rows = list(transitions_for(identity))
        assert len(rows) == 1
        assert (rows[0].from_state, rows[0].to_state, rows[0].reason) == ("", "INVITED", "created")
        assert (rows[0].actor_type, rows[0].actor_label) == (ActorType.SYSTEM, "test")

    def test_it_sends_the_invitation_only_after_commit(self, org, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            identity = _create(org)

        assert mail.outbox == []  # nothing leaves before the transaction commits
        for callback in callbacks:
            callback()
        assert len(mail.outbox) == 1
        assert f"/invitations/{identity.pk}/" in mail.outbox[0].body
        identity.refresh_from_db()
        assert identity.invitation_count == 1
        assert identity.invitation_sent_at is not None

    def test_it_refuses_a_duplicate_email_and_writes_nothing(self, org):
        _create(org)

        with pytest.raises(DuplicateIdentity):
            _create(org, email="ANA@example.com")

        assert ExternalPersonalIdentity.objects.count() == 1
        assert Transition.objects.count() == 1

    def test_it_allows_the_same_email_in_another_org(self, org, other_org):
        _create(org)
        _create(other_org)

        assert ExternalPersonalIdentity.objects.count() == 2


@pytest.mark.django_db
class TestUpdate:
    def test_it_deactivates_and_reactivates_with_one_row_each(self, org):
        identity = _active(org)
        actor = Actor.system("ops")

        identity = identity_update(identity=identity, data={"state": "DEACTIVATED"}, actor=actor)
        identity = identity_update(identity=identity, data={"state": "ACTIVE"}, actor=actor)

        rows = [(t.from_state, t.to_state) for t in transitions_for(identity)]
        assert rows == [("", "INVITED"), ("INVITED", "ACTIVE"), ("ACTIVE", "DEACTIVATED"), ("DEACTIVATED", "ACTIVE")]
        assert [t.actor_label for t in transitions_for(identity)][2:] == ["ops", "ops"]
        identity.refresh_from_db()
        assert identity.state == IdentityState.ACTIVE

    @pytest.mark.parametrize("target", ["ACTIVE", "DEACTIVATED"])
    def test_it_refuses_to_move_an_invited_identity(self, org, target):
        identity = make_identity(org)

        with pytest.raises(StateConflict):
            identity_update(identity=identity, data={"state": target, "first_name": "Eve"}, actor=ACTOR)

        identity.refresh_from_db()
        assert (identity.state, identity.first_name) == (IdentityState.INVITED, "Ana")
        assert transitions_for(identity).count() == 1

    def test_it_refuses_to_move_back_to_invited(self, org):
        identity = _active(org)

        with pytest.raises(StateConflict):
            identity_update(identity=identity, data={"state": "INVITED"}, actor=ACTOR)

        identity.refresh_from_db()
        assert identity.state == IdentityState.ACTIVE

    def test_it_does_nothing_for_the_same_state(self, org):
        identity = _active(org)
        before = Transition.objects.count()

        identity_update(identity=identity, data={"state": "ACTIVE"}, actor=ACTOR)

        assert Transition.objects.count() == before

    def test_it_reads_the_state_under_the_lock_not_from_a_stale_instance(self, org):
        stale = _active(org)
        identity_update(identity=stale, data={"state": "DEACTIVATED"}, actor=ACTOR)
        before = Transition.objects.count()

        # `stale` still says ACTIVE; the row says DEACTIVATED, so this is a no-op.
        identity_update(identity=stale, data={"state": "DEACTIVATED"}, actor=ACTOR)

        assert Transition.objects.count() == before

    def test_it_never_changes_managed(self, org):
        identity = _active(org)

        with pytest.raises(ValidationError) as excinfo:
            identity_update(identity=identity, data={"managed": False, "state": "DEACTIVATED"}, actor=ACTOR)

        assert "managed" in excinfo.value.message_dict
        identity.refresh_from_db()
        assert (identity.managed, identity.state) == (True, IdentityState.ACTIVE)

    def test_it_rolls_back_a_legal_state_change_when_the_email_is_taken(self, org):
        make_identity(org, email="taken@example.com")
        identity = _active(org)
        before = Transition.objects.count()

        with pytest.raises(DuplicateIdentity):
            identity_update(
                identity=identity, data={"state": "DEACTIVATED", "email_address": "taken@example.com"}, actor=ACTOR
            )

        identity.refresh_from_db()
        assert (identity.state, identity.email_address) == (IdentityState.ACTIVE, "ana@example.com")
        assert Transition.objects.count() == before

    def test_it_keeps_the_email_hash_in_step_with_the_email(self, org):
        identity = _active(org)

        identity_update(identity=identity, data={"email_address": "New@Example.com"}, actor=ACTOR)

        with pytest.raises(DuplicateIdentity):
            _create(org, email="new@example.com")
        _create(org, email="ana@example.com")  # the old address is free again


@pytest.mark.django_db
class TestInvitations:
    def test_it_resends_only_while_invited(self, org, django_capture_on_commit_callbacks):
        identity = _active(org)

        with django_capture_on_commit_callbacks(execute=True), pytest.raises(StateConflict):
            identity_resend_invitation(identity=identity, actor=ACTOR)

        assert mail.outbox == []

    def test_it_does_not_email_an_identity_activated_before_the_task_ran(self, org):
        identity = _active(org)

        assert identity_send_invitation(identity_id=identity.pk) is False
        assert mail.outbox == []

    def test_it_does_not_email_a_missing_identity(self, db):
        assert identity_send_invitation(identity_id="00000000-0000-0000-0000-000000000000") is False
        assert mail.outbox == []


@pytest.mark.django_db
class TestActivate:
    def test_it_activates_and_links_the_person(self, org):
        identity = make_identity(org)
        person = make_person()

        identity = identity_activate(identity=identity, person=person)

        identity.refresh_from_db()
        assert identity.state == IdentityState.ACTIVE
        assert identity.person == person
        assert identity.activated_at is not None
        last = transitions_for(identity).last()
        assert (last.from_state, last.to_state) == ("INVITED", "ACTIVE")
        assert (last.actor_type, last.actor_id) == (ActorType.USER, str(person.pk))

    def test_it_activates_only_once(self, org):
        identity = make_identity(org)
        identity_activate(identity=identity, person=make_person())
        other = make_person(email="other@example.com")

        with pytest.raises(StateConflict):
            identity_activate(identity=identity, person=other)

        identity.refresh_from_db()
        assert identity.person.email == "person@example.com"
        assert transitions_for(identity).count() == 2

    def test_it_lets_staff_deactivate_with_their_name_on_the_row(self, org):
        identity = _active(org)
        staff = make_person(email="staff@example.com")

        identity_transition_by_staff(identity=identity, transition="deactivate", user=staff)

        identity.refresh_from_db()
        assert identity.state == IdentityState.DEACTIVATED
        last = transitions_for(identity).last()
        assert (last.actor_type, last.actor_id) == (ActorType.USER, str(staff.pk))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks; SQLite locks the file")
@pytest.mark.django_db(transaction=True)
def test_it_logs_one_transition_when_two_requests_deactivate_at_once(org, monkeypatch):
    identity = _active(org)
    # Widen the window between reading the state and writing it, so that without the
    # row lock both requests would see ACTIVE and both would log a transition.
    original_can_proceed = audit_services.can_proceed

    def slow_can_proceed(*args, **kwargs):
        time.sleep(0.3)
        return original_can_proceed(*args, **kwargs)

    monkeypatch.setattr(audit_services, "can_proceed", slow_can_proceed)
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def deactivate(label: str) -> None:
        try:
            stale = ExternalPersonalIdentity.objects.get(pk=identity.pk)  # ACTIVE, as each request reads it
            barrier.wait(timeout=5)
            updated = identity_update(identity=stale, data={"state": "DEACTIVATED"}, actor=Actor.system(label))
            results.append(updated.state)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=deactivate, args=(f"request {n}",)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert results == ["DEACTIVATED", "DEACTIVATED"]
    rows = Transition.objects.filter(object_id=str(identity.pk), from_state="ACTIVE", to_state="DEACTIVATED")
    assert rows.count() == 1
    identity.refresh_from_db()
    assert identity.state == IdentityState.DEACTIVATED
