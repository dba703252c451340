"""Activity timers through a real Celery worker with beat on Redis: nobody calls the sweep by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.activities.models import Activity, ActivityStatus, ActivityType, SharedSnapshot
from apps.activities.services import activity_accept, activity_create
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.identities.services import identity_activate
from tests.factories import make_identity, make_person
from tests.integration.conftest import skip_reason, wait_for

pytestmark = [
    pytest.mark.skipif(bool(skip_reason()), reason=skip_reason()),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_delivery_here"),
]


def _parties(org):
    initiator = make_identity(org, email="bank@example.com", first_name="Bank")
    receptor = make_identity(org, email="eva@example.com", first_name="Eva")
    identity_activate(identity=initiator, person=make_person("bank@example.com"))
    identity_activate(identity=receptor, person=make_person("eva@example.com", first_name="Eva"))
    return initiator, receptor


def test_the_worker_cancels_a_short_validity_activity_within_seconds(org, start_worker):
    worker = start_worker()
    initiator, receptor = _parties(org)
    activity = activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=initiator.pk,
        receptor_id=receptor.pk,
        requirements=[{"detail": "first_name", "required": True}],
        valid_for=timedelta(seconds=2),
        actor=Actor.system("test"),
    )

    canceled = wait_for(
        lambda: Activity.objects.filter(pk=activity.pk, status=ActivityStatus.CANCELED).first(),
        "the activity to be canceled by the beat sweep",
        worker,
        timeout=30,
    )
    assert canceled.status == ActivityStatus.CANCELED
    row = Transition.objects.get(object_id=str(activity.pk), to_state=ActivityStatus.CANCELED)
    assert row.actor_type == "system"


def test_the_worker_expires_a_short_sharing_and_deletes_the_snapshot(org, start_worker):
    worker = start_worker()
    initiator, receptor = _parties(org)
    activity = activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=initiator.pk,
        receptor_id=receptor.pk,
        requirements=[{"detail": "first_name", "required": True}],
        actor=Actor.system("test"),
    )
    activity_accept(
        activity=activity,
        accepted_details=["first_name"],
        sharing_period=timedelta(seconds=2),
        actor=Actor.system("test"),
    )
    assert SharedSnapshot.objects.filter(activity=activity).exists()

    wait_for(
        lambda: Activity.objects.filter(pk=activity.pk, status=ActivityStatus.EXPIRED).first(),
        "the sharing to expire",
        worker,
        timeout=30,
    )
    assert not SharedSnapshot.objects.filter(activity=activity).exists()
