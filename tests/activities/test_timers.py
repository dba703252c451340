"""The beat sweeps: pending past valid_until → CANCELED; sharing past sharing_until → EXPIRED."""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from apps.activities.models import Activity, ActivityStatus, ActivityType, ConsentReceipt, Party, SharedSnapshot
from apps.activities.services import (
    activities_cancel_overdue,
    activities_expire_overdue,
    activity_accept,
    activity_complete,
    activity_decline,
)
from apps.activities.tasks import sweep_activity_deadlines
from apps.audit.models import Transition
from apps.audit.services import Actor

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STAFF = Actor.system("test")


@contextlib.contextmanager
def _locked_elsewhere(activity: Activity) -> Iterator[None]:
    """The activity's row held FOR UPDATE by another connection while the block runs."""
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic():
                Activity.objects.select_for_update().get(pk=activity.pk)
                locked.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert locked.wait(timeout=10)
        yield
    finally:
        release.set()
        holder.join(timeout=10)


def _status(activity: Activity) -> str:
    return Activity.objects.get(pk=activity.pk).status


def _rows(activity: Activity, to_state: str):
    return Transition.objects.filter(object_id=str(activity.pk), to_state=to_state)


def _accepted(make_activity, type: str = ActivityType.REQUEST, sharing_period: timedelta = timedelta(days=1)):
    return activity_accept(activity=make_activity(type), sharing_period=sharing_period, actor=STAFF)


def test_it_cancels_only_pending_activities_past_valid_until(make_activity):
    with time_machine.travel(START, tick=False):
        overdue = make_activity(ActivityType.REQUEST, valid_for=timedelta(hours=1))
        at_deadline = make_activity(ActivityType.AUTHORIZATION, valid_for=timedelta(minutes=90))
        still_open = make_activity(ActivityType.SWAP, valid_for=timedelta(hours=2))
        declined = activity_decline(activity=make_activity(valid_for=timedelta(hours=1)), actor=STAFF)
        accepted = _accepted(make_activity)

    with time_machine.travel(START + timedelta(minutes=90), tick=False):
        assert activities_cancel_overdue() == 2

    assert _status(overdue) == _status(at_deadline) == ActivityStatus.CANCELED
    assert _status(still_open) == ActivityStatus.PENDING
    assert _status(declined) == ActivityStatus.DECLINED
    assert _status(accepted) == ActivityStatus.ACCEPTED
    for activity in (overdue, at_deadline):
        row = _rows(activity, "CANCELED").get()
        assert (row.from_state, row.actor_type, row.reason) == ("PENDING", "system", "validity period ended")
        assert row.data["initiator_status"] == row.data["receptor_status"] == "CANCELED"
    assert not _rows(still_open, "CANCELED").exists()


def test_it_cancels_once(make_activity):
    with time_machine.travel(START, tick=False):
        overdue = make_activity(valid_for=timedelta(seconds=1))
    with time_machine.travel(START + timedelta(days=1), tick=False):
        assert activities_cancel_overdue() == 1
        before = Transition.objects.count()
        assert activities_cancel_overdue() == 0
        assert activities_expire_overdue() == 0

    assert Transition.objects.count() == before
    assert _rows(overdue, "CANCELED").count() == 1


def test_it_expires_only_sharings_past_sharing_until_and_deletes_their_values(make_activity):
    with time_machine.travel(START, tick=False):
        accepted = _accepted(make_activity, ActivityType.SWAP)
        completed = _accepted(make_activity)
        completed = activity_complete(activity=completed, party=Party.INITIATOR, actor=STAFF)
        completed = activity_complete(activity=completed, party=Party.RECEPTOR, actor=STAFF)
        share_later = make_activity(ActivityType.SHARE, sharing_period=timedelta(days=2))
        authorization = _accepted(make_activity, ActivityType.AUTHORIZATION, sharing_period=None)
        pending = make_activity(valid_for=timedelta(days=30))
    assert completed.status == ActivityStatus.COMPLETED
    assert SharedSnapshot.objects.filter(activity__in=[accepted, completed]).count() == 3

    with time_machine.travel(START + timedelta(days=1, seconds=1), tick=False):
        assert activities_expire_overdue() == 2

    assert _status(accepted) == _status(completed) == ActivityStatus.EXPIRED
    assert _status(share_later) == _status(authorization) == ActivityStatus.ACCEPTED
    assert _status(pending) == ActivityStatus.PENDING
    assert not SharedSnapshot.objects.filter(activity__in=[accepted, completed]).exists()
    assert SharedSnapshot.objects.filter(activity=share_later).exists()
    # Receipts are proof of consent: they outlive the values.
    assert ConsentReceipt.objects.filter(activity=accepted).count() == 2
    assert _rows(accepted, "EXPIRED").get().from_state == "ACCEPTED"
    row = _rows(completed, "EXPIRED").get()
    assert (row.from_state, row.actor_type, row.reason) == ("COMPLETED", "system", "sharing period ended")


def test_it_expires_once(make_activity):
    with time_machine.travel(START, tick=False):
        share = make_activity(ActivityType.SHARE, sharing_period=timedelta(seconds=1))
    with time_machine.travel(START + timedelta(seconds=1), tick=False):
        assert activities_expire_overdue() == 1
        before = Transition.objects.count()
        assert activities_expire_overdue() == 0
        assert activities_cancel_overdue() == 0

    assert Transition.objects.count() == before
    assert _rows(share, "EXPIRED").count() == 1


def test_it_works_in_batches(make_activity):
    with time_machine.travel(START, tick=False):
        overdue = [make_activity(valid_for=timedelta(minutes=n + 1)) for n in range(3)]
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        assert activities_cancel_overdue(batch_size=2) == 2
        # The earliest deadlines go first.
        assert [_status(a) for a in overdue] == ["CANCELED", "CANCELED", "PENDING"]
        assert activities_cancel_overdue(batch_size=2) == 1
        assert activities_cancel_overdue(batch_size=2) == 0


def test_the_task_sweeps_both_deadlines_until_nothing_is_left(make_activity, monkeypatch):
    with time_machine.travel(START, tick=False):
        pending = [make_activity(valid_for=timedelta(minutes=1)) for _ in range(3)]
        share = make_activity(ActivityType.SHARE, sharing_period=timedelta(minutes=1))
    # Batches of one: the task keeps going until a run finds nothing.
    from apps.activities import services, tasks

    monkeypatch.setattr(
        tasks,
        "activities_sweep_batches",
        functools.partial(services.activities_sweep_batches, first_batch=1, min_batch=1, max_batch=1),
    )
    with time_machine.travel(START + timedelta(minutes=2), tick=False):
        assert sweep_activity_deadlines.delay().get() == 4
        assert sweep_activity_deadlines() == 0

    assert {_status(a) for a in pending} == {ActivityStatus.CANCELED}
    assert _status(share) == ActivityStatus.EXPIRED
    assert Transition.objects.filter(to_state__in=["CANCELED", "EXPIRED"]).count() == 4


def test_the_task_runs_on_beat():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert "apps.activities.tasks.sweep_activity_deadlines" in {entry["task"] for entry in schedule.values()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections; SQLite locks the file")
@pytest.mark.django_db(transaction=True)
def test_it_skips_a_row_another_transaction_holds(make_activity):
    busy, free = make_activity(), make_activity()
    Activity.objects.filter(pk__in=[busy.pk, free.pk]).update(valid_until=timezone.now() - timedelta(minutes=1))
    with _locked_elsewhere(busy):
        assert activities_cancel_overdue() == 1
        assert _status(free) == ActivityStatus.CANCELED
        assert _status(busy) == ActivityStatus.PENDING

    assert activities_cancel_overdue() == 1
    assert _status(busy) == ActivityStatus.CANCELED


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections; SQLite locks the file")
@pytest.mark.django_db(transaction=True)
def test_a_run_leaves_a_locked_row_to_the_next_run_and_sweeps_the_rest(make_activity):
    from apps.activities.services import activities_sweep_batches

    busy, *free = (make_activity() for _ in range(4))
    now = timezone.now()
    for minutes, activity in enumerate([busy, *free]):  # busy has the oldest deadline
        Activity.objects.filter(pk=activity.pk).update(valid_until=now - timedelta(minutes=10 - minutes))
    with _locked_elsewhere(busy):
        # Batches of one: each starts at the deadline where the previous ended, past busy's.
        assert [count for count, _ in activities_sweep_batches(first_batch=1, min_batch=1, max_batch=1)] == [1, 1, 1]
        assert {_status(a) for a in free} == {ActivityStatus.CANCELED}
        assert _status(busy) == ActivityStatus.PENDING

    assert [count for count, _ in activities_sweep_batches()] == [1]
    assert _status(busy) == ActivityStatus.CANCELED
    assert _rows(busy, "CANCELED").count() == 1
