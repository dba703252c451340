"""The audit log is append-only: in the model everywhere, and by a trigger on PostgreSQL."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from apps.audit.errors import StateConflict
from apps.audit.models import ActorType, Transition
from apps.audit.selectors import transitions_for
from apps.audit.services import Actor, transition_apply
from apps.identities.models import IdentityState
from apps.identities.services import identity_activate
from tests.factories import make_identity, make_person

pytestmark = pytest.mark.django_db

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the append-only trigger exists on PostgreSQL only"
)


@pytest.fixture
def row(org) -> Transition:
    """The creation row of a fresh identity."""
    return transitions_for(make_identity(org)).get()


def _execute(sql: str, params: list[object]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _reloaded(row: Transition) -> Transition:
    return Transition.objects.get(pk=row.pk)


# --- Model guard (every database) ---------------------------------------------------------


def test_it_refuses_to_save_an_existing_row(row):
    row.to_state = "ACTIVE"

    with pytest.raises(PermissionError):
        row.save()

    assert _reloaded(row).to_state == "INVITED"


def test_it_refuses_to_delete_a_row(row):
    with pytest.raises(PermissionError):
        row.delete()

    assert Transition.objects.filter(pk=row.pk).exists()


def test_it_writes_who_what_and_when(org):
    identity = make_identity(org)
    person = make_person()

    identity_activate(identity=identity, person=person)

    last = transitions_for(identity).last()
    assert (last.from_state, last.to_state) == ("INVITED", "ACTIVE")
    assert (last.actor_type, last.actor_id) == (ActorType.USER, str(person.pk))
    assert last.reason == "invitation accepted"
    assert last.event_type == "identity.state_changed"
    assert last.organization == org
    assert last.data == {"id": str(identity.pk), "state": "ACTIVE", "managed": True}
    assert last.published_at is None
    assert last.created_at <= timezone.now()


def test_it_writes_nothing_when_the_transition_is_refused(org):
    identity = make_identity(org)
    before = Transition.objects.count()

    with pytest.raises(StateConflict):
        transition_apply(identity, "deactivate", actor=Actor.system("test"))

    identity.refresh_from_db()
    assert identity.state == IdentityState.INVITED
    assert Transition.objects.count() == before


def test_it_lists_an_objects_trail_oldest_first_and_only_its_own(org):
    identity = make_identity(org)
    make_identity(org, email="bob@example.com")
    identity = identity_activate(identity=identity, person=make_person())
    transition_apply(identity, "deactivate", actor=Actor.system("test"))

    trail = [(t.from_state, t.to_state) for t in transitions_for(identity)]

    assert trail == [("", "INVITED"), ("INVITED", "ACTIVE"), ("ACTIVE", "DEACTIVATED")]


# --- Database guard (PostgreSQL trigger) ----------------------------------------------------


@postgres_only
def test_it_refuses_a_raw_update_of_the_state(row):
    with pytest.raises(DatabaseError), transaction.atomic():
        _execute("UPDATE audit_transition SET to_state = %s WHERE id = %s", ["DEACTIVATED", row.pk])

    assert _reloaded(row).to_state == "INVITED"


@postgres_only
def test_it_refuses_a_raw_delete(row):
    with pytest.raises(DatabaseError), transaction.atomic():
        _execute("DELETE FROM audit_transition WHERE id = %s", [row.pk])

    assert Transition.objects.filter(pk=row.pk).exists()


@postgres_only
def test_it_refuses_queryset_update_and_delete(row):
    with pytest.raises(DatabaseError), transaction.atomic():
        Transition.objects.filter(pk=row.pk).update(reason="edited")
    with pytest.raises(DatabaseError), transaction.atomic():
        Transition.objects.filter(pk=row.pk).delete()

    reloaded = _reloaded(row)
    assert reloaded.reason == "created"


@postgres_only
def test_it_lets_the_relay_set_published_at_once(row):
    first = timezone.now()

    with transaction.atomic():
        _execute("UPDATE audit_transition SET published_at = %s WHERE id = %s", [first, row.pk])

    assert _reloaded(row).published_at == first

    with pytest.raises(DatabaseError), transaction.atomic():
        _execute("UPDATE audit_transition SET published_at = %s WHERE id = %s", [timezone.now(), row.pk])
    with pytest.raises(DatabaseError), transaction.atomic():
        _execute("UPDATE audit_transition SET published_at = NULL WHERE id = %s", [row.pk])

    assert _reloaded(row).published_at == first


@postgres_only
def test_it_refuses_other_changes_smuggled_with_published_at(row):
    with pytest.raises(DatabaseError), transaction.atomic():
        _execute(
            "UPDATE audit_transition SET published_at = %s, to_state = %s WHERE id = %s",
            [timezone.now(), "DEACTIVATED", row.pk],
        )

    reloaded = _reloaded(row)
    assert (reloaded.published_at, reloaded.to_state) == (None, "INVITED")
