"""Staff see activities in the admin, with their audit trail, and may cancel a pending one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from apps.activities.models import Activity, ActivityStatus, ActivityType
from apps.activities.services import activity_decline
from apps.audit.models import Transition
from apps.audit.services import Actor
from tests.factories import make_person, staff_login

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/activities/activity/"
PREFIX = "audit-transition-content_type-object_id"


@pytest.fixture
def staff_client(client):
    admin = make_person("staff@example.com")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    staff_login(client, admin)
    return client


def _change(pk) -> str:
    return f"{CHANGELIST}{pk}/change/"


def _post_transition(staff_client, activity: Activity, name: str, audit_rows: int):
    management = {
        f"{PREFIX}-TOTAL_FORMS": str(audit_rows),
        f"{PREFIX}-INITIAL_FORMS": str(audit_rows),
        f"{PREFIX}-MAX_NUM_FORMS": "0",
    }
    to_form = staff_client.post(_change(activity.pk), {**management, "_fsm_transition_to": name})
    if to_form.status_code != 302 or "/transition/" not in to_form["Location"]:
        return to_form
    # The button opens a confirmation page that asks for a reason.
    return staff_client.post(to_form["Location"], {"reason": "Checked with the customer"})


def test_it_lists_and_filters_activities(staff_client, make_activity):
    make_activity(ActivityType.REQUEST)
    make_activity(ActivityType.SHARE)
    activity_decline(activity=make_activity(ActivityType.AUTHORIZATION), actor=Actor.system("test"))

    response = staff_client.get(CHANGELIST)
    assert response.status_code == 200
    assert response.context["cl"].result_count == 3
    assert staff_client.get(CHANGELIST, {"type__exact": "AT_002"}).context["cl"].result_count == 1
    assert staff_client.get(CHANGELIST, {"status__exact": "DECLINED"}).context["cl"].result_count == 1
    assert (
        staff_client.get(CHANGELIST, {"status__exact": "PENDING", "type__exact": "AT_002"}).context["cl"].result_count
        == 0
    )


def test_it_shows_the_audit_trail(staff_client, make_activity):
    activity = make_activity(ActivityType.AUTHORIZATION)
    activity_decline(activity=activity, actor=Actor.system("test"))

    page = staff_client.get(_change(activity.pk))
    assert page.status_code == 200
    assert b"Audit trail" in page.content
    assert b"created" in page.content and b"declined" in page.content


def test_it_offers_cancel_only_while_pending_and_logs_it(staff_client, make_activity):
    pending = make_activity(ActivityType.REQUEST)
    page = staff_client.get(_change(pending.pk))
    assert b'value="cancel"' in page.content

    response = _post_transition(staff_client, pending, "cancel", audit_rows=1)

    assert response.status_code == 302
    assert Activity.objects.get(pk=pending.pk).status == ActivityStatus.CANCELED
    row = Transition.objects.get(object_id=str(pending.pk), to_state="CANCELED")
    assert (row.from_state, row.actor_type) == ("PENDING", "user")
    assert b'value="cancel"' not in staff_client.get(_change(pending.pk)).content


def test_it_does_not_offer_cancel_once_answered(staff_client, make_activity):
    share = make_activity(ActivityType.SHARE)
    declined = activity_decline(activity=make_activity(), actor=Actor.system("test"))

    for activity in (share, declined):
        assert b'value="cancel"' not in staff_client.get(_change(activity.pk)).content
    # Nor are the party's own answers staff buttons.
    pending_page = staff_client.get(_change(make_activity().pk)).content
    for answer in (b'value="accept"', b'value="decline"', b'value="complete"'):
        assert answer not in pending_page


def test_it_cannot_cancel_an_answered_activity_by_a_forged_post(staff_client, make_activity):
    share = make_activity(ActivityType.SHARE, sharing_period=timedelta(days=1))

    _post_transition(staff_client, share, "cancel", audit_rows=1)

    assert Activity.objects.get(pk=share.pk).status == ActivityStatus.ACCEPTED
    assert not Transition.objects.filter(object_id=str(share.pk), to_state="CANCELED").exists()


def test_it_lets_staff_end_a_sharing_and_deletes_the_values(staff_client, make_activity):
    share = make_activity(ActivityType.SHARE)
    assert b'value="expire"' in staff_client.get(_change(share.pk)).content

    _post_transition(staff_client, share, "expire", audit_rows=1)

    assert Activity.objects.get(pk=share.pk).status == ActivityStatus.EXPIRED
    assert not share.snapshots.exists()
    assert Transition.objects.get(object_id=str(share.pk), to_state="EXPIRED").actor_type == "user"


def test_it_adds_no_activities_by_hand(staff_client, org):
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403
