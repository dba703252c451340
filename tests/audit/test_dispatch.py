"""Audit announces every committed transition once, row by row or in bulk, with one payload."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from apps.activities.models import Activity
from apps.audit.dispatch import Change, transition_subscribe, transition_unsubscribe
from apps.audit.models import Transition
from apps.audit.selectors import transitions_for
from apps.audit.services import Actor, expire_if_overdue, sweep_overdue, transition_apply
from apps.identifications.models import OtpIdentification
from apps.identifications.services import ActorData, identification_create
from apps.identities.models import ExternalPersonalIdentity
from apps.transfers.models import TransferSession
from apps.transfers.services import session_create
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_create
from tests.activities.conftest import DEFAULTS, INITIATOR_DETAILS, RECEPTOR_DETAILS, make_party
from tests.factories import make_identity, make_person

pytestmark = pytest.mark.django_db

ACTOR = Actor.system("test")


class Recorder:
    """A subscriber that keeps every call it gets, and whether it ran inside a transaction."""

    def __init__(self) -> None:
        self.calls: list[list[Change]] = []
        self.in_transaction: list[bool] = []

    def __call__(self, changes: list[Change]) -> None:
        self.calls.append(changes)
        self.in_transaction.append(transaction.get_connection().in_atomic_block)

    @property
    def changes(self) -> list[Change]:
        return [change for call in self.calls for change in call]


@pytest.fixture
def subscribe():
    handlers = []

    def add(model, *, on_commit=True) -> Recorder:
        recorder = Recorder()
        transition_subscribe(model, recorder, on_commit=on_commit)
        handlers.append(recorder)
        return recorder

    yield add
    for handler in handlers:
        transition_unsubscribe(handler)


def _activate(identity: ExternalPersonalIdentity) -> ExternalPersonalIdentity:
    return transition_apply(identity, "activate", actor=ACTOR, reason="test", person=make_person())


# --- Row by row ---------------------------------------------------------------------------


def test_a_subscriber_runs_once_per_committed_transition_after_the_commit(
    org, subscribe, django_capture_on_commit_callbacks
):
    identity = make_identity(org)
    recorder = subscribe(ExternalPersonalIdentity)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _activate(identity)
        assert recorder.calls == []  # nothing before the commit
    for callback in callbacks:
        callback()

    [[change]] = recorder.calls
    assert (change.model, change.object_id) == (ExternalPersonalIdentity, str(identity.pk))
    assert (change.from_state, change.to_state, change.created) == ("INVITED", "ACTIVE", False)
    assert change.subject is not None and change.subject.state == "ACTIVE"


def test_a_subscriber_is_not_called_for_a_transition_rolled_back(org, subscribe, django_capture_on_commit_callbacks):
    identity = make_identity(org)
    after, inside = subscribe(ExternalPersonalIdentity), subscribe(ExternalPersonalIdentity, on_commit=False)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        _activate(identity)
        raise RuntimeError("rolled back")

    assert after.calls == []
    assert len(inside.calls) == 1  # it ran inside the transaction, and its writes rolled back with it
    identity.refresh_from_db()
    assert identity.state == "INVITED"
    assert not transitions_for(identity).filter(to_state="ACTIVE").exists()


def test_an_in_transaction_subscriber_runs_inside_the_change_before_the_commit(org, subscribe):
    identity = make_identity(org)
    inside = subscribe(ExternalPersonalIdentity, on_commit=False)

    _activate(identity)

    assert [len(call) for call in inside.calls] == [1]
    assert inside.in_transaction == [True]


def test_subscribers_of_other_models_are_not_called_and_none_hears_every_model(
    org, subscribe, django_capture_on_commit_callbacks
):
    identity = make_identity(org)
    processes, everything = subscribe(VerificationProcess), subscribe(None)

    with django_capture_on_commit_callbacks(execute=True):
        _activate(identity)

    assert processes.calls == []
    assert [change.object_id for change in everything.changes] == [str(identity.pk)]


def test_a_creation_is_announced_as_created(org, subscribe, django_capture_on_commit_callbacks):
    recorder = subscribe(ExternalPersonalIdentity)

    with django_capture_on_commit_callbacks(execute=True):
        identity = make_identity(org)

    [change] = recorder.changes
    assert (change.object_id, change.from_state, change.to_state, change.created) == (
        str(identity.pk),
        "",
        "INVITED",
        True,
    )


# --- In bulk ------------------------------------------------------------------------------


def _identifications(org, count: int) -> list[OtpIdentification]:
    return [
        identification_create(
            organization=org,
            actor_data=ActorData(name=f"Actor{n}", surname="Lind", email=f"actor{n}@example.com"),
            channel="EMAIL",
            expires_in=timedelta(minutes=10),
            actor=ACTOR,
        )
        for n in range(count)
    ]


def test_the_bulk_path_announces_each_row_in_one_call_after_the_commit(
    org, subscribe, django_capture_on_commit_callbacks
):
    identifications = _identifications(org, 3)
    after, inside = subscribe(OtpIdentification), subscribe(OtpIdentification, on_commit=False)

    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            assert sweep_overdue(OtpIdentification) == 3
            assert after.calls == []
        for callback in callbacks:
            callback()
        assert sweep_overdue(OtpIdentification) == 0

    for recorder in (after, inside):
        assert len(recorder.calls) == 1
        assert sorted(change.object_id for change in recorder.changes) == sorted(str(i.pk) for i in identifications)
        assert {(c.from_state, c.to_state, c.subject) for c in recorder.changes} == {("CREATED", "EXPIRED", None)}
    assert inside.in_transaction == [True]
    assert Transition.objects.filter(to_state="EXPIRED").count() == 3


def test_a_bulk_batch_rolled_back_is_not_announced(org, subscribe, django_capture_on_commit_callbacks):
    _identifications(org, 2)
    after = subscribe(OtpIdentification)

    later = time_machine.travel(timezone.now() + timedelta(minutes=11))
    with later, django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        sweep_overdue(OtpIdentification)
        raise RuntimeError("rolled back")

    assert after.calls == []
    assert not OtpIdentification.objects.filter(status="EXPIRED").exists()


# --- One payload on both paths ------------------------------------------------------------


def _activities(org) -> tuple[Activity, Activity]:
    from apps.activities.services import activity_create

    initiator = make_party(org, "ana@example.com", **INITIATOR_DETAILS)
    receptor = make_party(org, "eva@example.com", **RECEPTOR_DETAILS)
    return tuple(  # type: ignore[return-value]
        activity_create(
            organization=org,
            type="AT_001",
            initiator_id=initiator.pk,
            receptor_id=receptor.pk,
            purpose="Open an account",
            actor=ACTOR,
            **{**DEFAULTS["AT_001"], "valid_for": timedelta(minutes=10)},
        )
        for _ in range(2)
    )


def _processes(org):
    return tuple(
        process_create(
            organization=org,
            provider="sandbox",
            process_type=None,
            notification_url="https://example.com/notify",
            actor=ACTOR,
        )
        for _ in range(2)
    )


def _sessions(org):
    return tuple(
        session_create(
            organization=org,
            scopes=["first_name"],
            callback="https://example.com/callback",
            expires_in=timedelta(minutes=5),
            actor=ACTOR,
        )[0]
        for _ in range(2)
    )


COMPARED = ("from_state", "to_state", "event_type", "actor_type", "reason", "organization_id", "published_at")


@pytest.mark.parametrize(
    "make, model",
    [
        (_activities, Activity),
        (lambda org: tuple(_identifications(org, 2)), OtpIdentification),
        (_processes, VerificationProcess),
        (_sessions, TransferSession),
    ],
    ids=["activity", "identification", "process", "session"],
)
def test_the_event_payload_and_the_audit_row_are_the_same_from_the_single_and_the_bulk_path(org, make, model):
    by_hand, swept = make(org)
    fields = [f.attname for f in model._meta.concrete_fields if f.attname not in {"id", "updated_at"}]
    unlike = {f for f in fields if getattr(by_hand, f) != getattr(swept, f)}
    id_key = next(key for key, value in by_hand.event_data().items() if value == str(by_hand.pk))

    with time_machine.travel(timezone.now() + timedelta(days=2)):
        by_hand = expire_if_overdue(by_hand)
        assert sweep_overdue(model) == 1
    swept.refresh_from_db()

    single, bulk = transitions_for(by_hand).last(), transitions_for(swept).last()
    assert single.to_state == bulk.to_state != single.from_state
    assert {f: getattr(bulk, f) for f in COMPARED} == {f: getattr(single, f) for f in COMPARED}
    assert bulk.data == {**single.data, id_key: str(swept.pk)}
    # The payload written is the model's own, read now on the object the sweep changed.
    assert bulk.data == swept.event_data()
    assert single.data == by_hand.event_data()
    # And the objects end alike (e.g. a process's fail reason), but for what differed from the start.
    assert {f for f in fields if getattr(by_hand, f) != getattr(swept, f)} <= unlike
