"""The set-based deadline sweeps write what the per-row transition would, batch by batch."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apps.activities.models import Activity, ActivityStatus, ActivityType, SharedSnapshot
from apps.activities.services import (
    activities_cancel_overdue,
    activities_expire_overdue,
    activities_sweep_batches,
    activity_accept,
)
from apps.audit.models import Transition
from apps.audit.services import Actor, next_batch_size, transition_apply
from tests.activities.conftest import DEFAULTS, INITIATOR_DETAILS, RECEPTOR_DETAILS, make_party

pytestmark = pytest.mark.django_db

FIELDS = ("content_type_id", "organization_id", "from_state", "to_state", "event_type", "actor_type", "actor_id")
FIELDS += ("actor_label", "reason", "published_at")


@pytest.fixture
def make(org):
    from apps.activities.services import activity_create

    initiator = make_party(org, "ana@example.com", **INITIATOR_DETAILS)
    receptor = make_party(org, "eva@example.com", **RECEPTOR_DETAILS)

    def make_one(type: str = ActivityType.REQUEST, **kwargs) -> Activity:
        return activity_create(
            organization=org,
            type=type,
            initiator_id=initiator.pk,
            receptor_id=receptor.pk,
            purpose="Open an account",
            actor=Actor.system("test"),
            **{**DEFAULTS[type], **kwargs},
        )

    return make_one


def _row(activity: Activity, to_state: str) -> Transition:
    return Transition.objects.get(object_id=str(activity.pk), to_state=to_state)


def _same(batch: Transition, per_row: Transition, batch_activity: Activity, row_activity: Activity) -> None:
    assert {f: getattr(batch, f) for f in FIELDS} == {f: getattr(per_row, f) for f in FIELDS}
    assert batch.data == {**per_row.data, "id": str(batch_activity.pk)}
    assert per_row.data["id"] == str(row_activity.pk)


def test_the_validity_sweep_writes_the_per_row_audit_row_and_event(make, django_capture_on_commit_callbacks):
    swept, by_hand = make(valid_for=timedelta(hours=1)), make(valid_for=timedelta(hours=1))
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        transition_apply(by_hand, "cancel", actor=Actor.system("validity sweep"), reason="validity period ended")
        with django_capture_on_commit_callbacks() as callbacks:
            assert activities_cancel_overdue() == 1
    assert callbacks, "the relay is told about the new transitions"
    swept.refresh_from_db()
    assert swept.status == ActivityStatus.CANCELED
    assert swept.event_data()["status"] == ActivityStatus.CANCELED
    _same(_row(swept, "CANCELED"), _row(by_hand, "CANCELED"), swept, by_hand)


def test_the_sharing_sweep_expires_deletes_the_shared_values_and_logs_as_per_row(make):
    actor = Actor.system("test")
    swept = activity_accept(activity=make(ActivityType.REQUEST), sharing_period=timedelta(days=1), actor=actor)
    by_hand = activity_accept(activity=make(ActivityType.REQUEST), sharing_period=timedelta(days=1), actor=actor)
    assert SharedSnapshot.objects.filter(activity=swept).exists()
    with time_machine.travel(timezone.now() + timedelta(days=2)):
        transition_apply(by_hand, "expire", actor=Actor.system("sharing sweep"), reason="sharing period ended")
        assert activities_expire_overdue() == 1
    swept.refresh_from_db()
    assert swept.status == ActivityStatus.EXPIRED
    assert not SharedSnapshot.objects.filter(activity__in=[swept, by_hand]).exists()
    _same(_row(swept, "EXPIRED"), _row(by_hand, "EXPIRED"), swept, by_hand)


def test_batches_are_bounded_oldest_first_and_a_second_sweep_changes_nothing(make):
    overdue = [make(valid_for=timedelta(minutes=10 + n)) for n in range(5)]
    fresh = make(valid_for=timedelta(days=3))
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert activities_cancel_overdue(batch_size=2) == 2
        first = set(Activity.objects.filter(status=ActivityStatus.CANCELED).values_list("pk", flat=True))
        assert first == {overdue[0].pk, overdue[1].pk}
        assert activities_cancel_overdue(batch_size=2) == 2
        assert activities_cancel_overdue(batch_size=2) == 1
        before = Transition.objects.count()
        assert activities_cancel_overdue(batch_size=2) == 0
        assert Transition.objects.count() == before
    assert Transition.objects.filter(to_state="CANCELED").count() == 5
    fresh.refresh_from_db()
    assert fresh.status == ActivityStatus.PENDING


def test_a_sweep_run_drains_both_deadlines_in_growing_batches_each_activity_once(make):
    actor = Actor.system("test")
    overdue = [make(valid_for=timedelta(minutes=10 + n)) for n in range(7)]
    sharing = [
        activity_accept(activity=make(ActivityType.REQUEST), sharing_period=timedelta(minutes=20 + n), actor=actor)
        for n in range(2)
    ]
    fresh = make(valid_for=timedelta(days=3))
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        # Fast batches (an hour's target): each doubles the next one, up to max_batch; every
        # batch starts where the previous ended and the sharing sweep starts over at first_batch.
        run = activities_sweep_batches(batch_seconds=3600, first_batch=1, min_batch=1, max_batch=3)
        assert [count for count, _ in run] == [1, 2, 3, 1, 1, 1]
        assert list(activities_sweep_batches()) == []
    for activities, before, after in (
        (overdue, ActivityStatus.PENDING, ActivityStatus.CANCELED),
        (sharing, ActivityStatus.ACCEPTED, ActivityStatus.EXPIRED),
    ):
        for activity in activities:
            activity.refresh_from_db()
            assert activity.status == after
            assert _row(activity, after).from_state == before  # .get(): exactly one audit row
    fresh.refresh_from_db()
    assert fresh.status == ActivityStatus.PENDING


@pytest.mark.parametrize(
    ("size", "count", "seconds", "expected"),
    [
        (500, 500, 0.025, 1000),  # three times faster than the target: it doubles, no more
        (1000, 1000, 0.150, 500),  # twice too slow: halved at once
        (1000, 400, 0.030, 1000),  # a short last batch is measured per row
        (1000, 1000, 10.0, 50),  # never below the minimum
        (4000, 4000, 0.001, 5000),  # nor above the maximum
        (500, 500, 0.0, 1000),  # a clock too coarse to measure: doubles
    ],
)
def test_the_next_batch_is_sized_to_the_target_duration(size, count, seconds, expected):
    assert next_batch_size(size, count, seconds, 0.075, 50, 5000) == expected
