"""Activity services: every change goes through the FSM and leaves one audit row and event."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from apps.activities.models import Activity, ActivityStatus, ActivityType, ConsentReceipt, Party, SharedSnapshot
from apps.activities.selectors import DetailsGone, activity_details
from apps.activities.services import (
    activity_accept,
    activity_complete,
    activity_decline,
    activity_revoke,
    activity_withdraw,
)
from apps.audit.errors import StateConflict
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.webhooks.events import event_data

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
STAFF = Actor.system("test")


def _trail(activity: Activity) -> list[tuple[str, str, str]]:
    rows = Transition.objects.filter(object_id=str(activity.pk)).order_by("id")
    assert {r.event_type for r in rows} == {"activity.status_changed"}
    return [(r.from_state, r.to_state, r.reason) for r in rows]


def test_it_logs_every_change_of_a_request(make_activity):
    activity = make_activity(ActivityType.REQUEST)
    activity = activity_accept(activity=activity, sharing_period=timedelta(days=1), actor=STAFF)
    activity = activity_complete(activity=activity, party=Party.INITIATOR, actor=STAFF)
    activity = activity_complete(activity=activity, party=Party.RECEPTOR, actor=STAFF)
    activity_revoke(activity=activity, actor=STAFF)

    assert _trail(activity) == [
        ("", "PENDING", "created"),
        ("PENDING", "ACCEPTED", "accepted"),
        ("ACCEPTED", "COMPLETED", "both parties finalized"),
        ("COMPLETED", "EXPIRED", "revoked"),
    ]


def test_it_logs_a_decline_and_a_withdrawal(make_activity):
    declined = activity_decline(activity=make_activity(ActivityType.AUTHORIZATION), actor=STAFF)
    withdrawn = activity_withdraw(activity=make_activity(ActivityType.SWAP), actor=STAFF)

    assert _trail(declined)[-1] == ("PENDING", "DECLINED", "declined")
    assert _trail(withdrawn)[-1] == ("PENDING", "CANCELED", "withdrawn")


def test_it_logs_the_creation_of_a_share_as_accepted(make_activity):
    share = make_activity(ActivityType.SHARE)

    assert _trail(share) == [("", "ACCEPTED", "created")]


def test_it_gives_events_both_parties_statuses_and_never_pending(make_activity):
    activity = make_activity(ActivityType.REQUEST)
    activity = activity_accept(activity=activity, sharing_period=timedelta(days=1), actor=STAFF)

    created, accepted = Transition.objects.filter(object_id=str(activity.pk)).order_by("id")
    assert (created.data["initiator_status"], created.data["receptor_status"]) == ("SENT", "ACTION_REQUIRED")
    assert (accepted.data["initiator_status"], accepted.data["receptor_status"]) == ("ACCEPTED", "ACCEPTED")
    for row in (created, accepted):
        assert "PENDING" not in row.data.values()
        payload = event_data(row)
        assert payload["id"] == str(activity.pk)
        assert payload["type"] == "AT_001"
        assert payload["status"] != "PENDING"


def test_it_never_shows_pending_to_either_party(make_activity):
    activity = make_activity(ActivityType.REQUEST)

    assert activity.status == ActivityStatus.PENDING
    assert activity.status_for(Party.INITIATOR) == "SENT"
    assert activity.status_for(Party.RECEPTOR) == "ACTION_REQUIRED"


def test_it_protects_the_status_field(make_activity):
    activity = make_activity(ActivityType.REQUEST)

    with pytest.raises(AttributeError):
        activity.status = ActivityStatus.ACCEPTED
    with pytest.raises(TransitionNotAllowed):
        activity.complete()


def test_it_snapshots_a_share_at_creation(make_activity, initiator):
    share = make_activity(ActivityType.SHARE, offered_details=["first_name", "nationality"])

    snapshot = SharedSnapshot.objects.get(activity=share)
    assert (snapshot.giver, snapshot.values) == ("initiator", {"first_name": "Ana", "nationality": "ESP"})
    assert share.accepted_details == ["first_name", "nationality"]


def test_it_accepts_every_requested_detail_by_default(make_activity):
    activity = make_activity(ActivityType.REQUEST)
    activity = activity_accept(activity=activity, sharing_period=timedelta(days=1), actor=STAFF)

    assert activity.accepted_details == ["first_name", "date_of_birth"]
    assert SharedSnapshot.objects.get(activity=activity).values == {"first_name": "Eva", "date_of_birth": "1985-12-24"}


def test_it_refuses_to_leave_out_a_required_detail(make_activity):
    activity = make_activity(ActivityType.SWAP)

    with pytest.raises(ValidationError) as excinfo:
        activity_accept(
            activity=activity, accepted_details=["nationality"], sharing_period=timedelta(days=1), actor=STAFF
        )
    assert set(excinfo.value.message_dict) == {"accepted_details"}
    assert Activity.objects.get(pk=activity.pk).status == ActivityStatus.PENDING


def test_it_completes_only_once_both_have_finalized(make_activity):
    activity = make_activity(ActivityType.SHARE)

    once = activity_complete(activity=activity, party=Party.RECEPTOR, actor=STAFF)
    again = activity_complete(activity=once, party=Party.RECEPTOR, actor=STAFF)
    assert once.status == again.status == ActivityStatus.ACCEPTED
    assert once.receptor_completed_at == again.receptor_completed_at is not None
    both = activity_complete(activity=activity, party=Party.INITIATOR, actor=STAFF)
    assert both.status == ActivityStatus.COMPLETED
    assert [t for t in _trail(activity) if t[1] == "COMPLETED"] == [("ACCEPTED", "COMPLETED", "both parties finalized")]


def test_it_revokes_a_sharing_and_deletes_the_values_but_keeps_the_receipt(make_activity):
    activity = make_activity(ActivityType.SWAP)
    activity = activity_accept(activity=activity, sharing_period=timedelta(days=30), actor=STAFF)
    assert SharedSnapshot.objects.filter(activity=activity).count() == 2

    revoked = activity_revoke(activity=activity, actor=STAFF)

    assert revoked.status == ActivityStatus.EXPIRED
    assert not SharedSnapshot.objects.filter(activity=activity).exists()
    assert ConsentReceipt.objects.filter(activity=activity).count() == 2
    with pytest.raises(DetailsGone):
        activity_details(activity=revoked, party=Party.INITIATOR)
    with pytest.raises(StateConflict):
        activity_revoke(activity=revoked, actor=STAFF)


def test_it_refuses_to_revoke_what_is_not_shared(make_activity):
    pending = make_activity(ActivityType.REQUEST)
    declined = activity_decline(activity=make_activity(ActivityType.REQUEST), actor=STAFF)

    for activity in (pending, declined):
        with pytest.raises(StateConflict):
            activity_revoke(activity=activity, actor=STAFF)
    assert Activity.objects.get(pk=pending.pk).status == ActivityStatus.PENDING


def test_it_refuses_to_revoke_an_overdue_sharing_before_the_sweep(make_activity):
    with time_machine.travel(START, tick=False):
        share = make_activity(ActivityType.SHARE, sharing_period=timedelta(hours=1))
    with time_machine.travel(START + timedelta(hours=1), tick=False):
        with pytest.raises(StateConflict):
            activity_revoke(activity=share, actor=STAFF)
        assert share.effective_status() == ActivityStatus.EXPIRED
        with pytest.raises(DetailsGone):
            activity_details(activity=share, party=Party.RECEPTOR)


def test_it_refuses_answers_past_valid_until_before_the_sweep(make_activity):
    with time_machine.travel(START, tick=False):
        activity = make_activity(ActivityType.REQUEST, valid_for=timedelta(minutes=5))
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        for answer in (
            lambda: activity_accept(activity=activity, sharing_period=timedelta(days=1), actor=STAFF),
            lambda: activity_decline(activity=activity, actor=STAFF),
            lambda: activity_withdraw(activity=activity, actor=STAFF),
        ):
            with pytest.raises(StateConflict):
                answer()
    assert _trail(activity) == [("", "PENDING", "created")]


def test_it_never_publishes_pending_as_a_previous_status(org, initiator, receptor, make_activity):
    from apps.activities.services import activity_decline
    from apps.audit.models import Transition
    from apps.audit.services import Actor
    from apps.webhooks.events import event_data

    activity = make_activity()
    activity_decline(activity=activity, actor=Actor.system("test"))
    row = Transition.objects.get(object_id=str(activity.pk), to_state="DECLINED")
    data = event_data(row)
    assert (data["previous_status"], data["previous_receptor_status"]) == ("SENT", "ACTION_REQUIRED")
    assert "PENDING" not in str(data)
