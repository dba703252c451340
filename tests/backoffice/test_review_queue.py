"""The review queue: inconclusive processes, assigned to a compliance officer, decided with a reason;
each step audited and sent as a process.status_changed event; the process page's summary."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.audit.models import Transition
from apps.audit.selectors import transitions_for
from apps.audit.services import Actor, transition_apply
from apps.verifications.models import ProcessReview, ReviewDecision, ReviewState, VerificationProcess
from tests.backoffice.conftest import make_process, make_staff, transition_buttons
from tests.factories import staff_login

pytestmark = pytest.mark.django_db

QUEUE = "/admin/verifications/processreview/"
PROCESSES = "/admin/verifications/verificationprocess/"

ONFIDO_INCONCLUSIVE = {
    "facialSimilarity": {"result": "consider", "similarityScore": "high"},
    "documentVerification": {
        "lastName": "SPECIMEN",
        "subResult": "suspected",
        "gender": "F",
        "documentType": "passport",
        "documentNumber": "00000000",
        "dateOfBirth": "2002-04-29",
        "result": "consider",
        "firstName": "LAERKE OEYVOR AASE",
        "nationality": "NOR",
        "issuingCountry": "NOR",
    },
}


def inconclusive_process(org) -> VerificationProcess:
    process = make_process(org)
    VerificationProcess.objects.filter(pk=process.pk).update(provider_specific=ONFIDO_INCONCLUSIVE)
    return transition_apply(
        VerificationProcess.objects.get(pk=process.pk),
        "finish",
        actor=Actor.provider("onfido"),
        status="inconclusive",
        final_result=None,
    )


def test_an_inconclusive_process_enters_the_queue_and_others_do_not(org):
    process = inconclusive_process(org)
    transition_apply(make_process(org), "cancel", actor=Actor.system("test"))

    (review,) = ProcessReview.objects.all()
    assert (review.process_id, review.state, review.organization_id) == (process.pk, ReviewState.PENDING, org.pk)


def test_the_process_page_summarises_the_result_before_the_raw_json(staff_client, org):
    process = inconclusive_process(org)

    page = staff_client("viewer").get(f"{PROCESSES}{process.pk}/change/").content.decode()

    summary = page.index("backoffice-summary")
    assert summary < page.index("backoffice-json")
    for words in ("Inconclusive", "Facial similarity: consider", "Passport", "Norway", "Female", "2002-04-29"):
        assert words in page, words
    assert 'class="module aligned collapse' in page  # the provider's raw JSON, collapsed


def test_an_officer_assigns_a_review_to_herself_and_decides_it_with_a_reason(staff_client, org):
    process = inconclusive_process(org)
    review = ProcessReview.objects.get(process=process)
    client = staff_client("operator")
    queue = client.get(QUEUE).content.decode()
    assert "onfido documentSelfie" in queue and "Waiting for a reviewer" in queue
    assert "Time in review" in queue
    assert transition_buttons(client.get(f"{QUEUE}{review.pk}/change/")) == {"assign"}

    confirm = client.post(QUEUE, {"action": "assign_to_me", "_selected_action": [str(review.pk)]})
    assert 'name="reason"' in confirm.content.decode()
    client.post(
        QUEUE,
        {"action": "assign_to_me", "_selected_action": [str(review.pk)], "apply": "1", "reason": "My shift"},
    )
    review.refresh_from_db()
    assert review.state == ReviewState.ASSIGNED
    page = client.get(f"{QUEUE}{review.pk}/change/")
    assert transition_buttons(page) == {"accept", "reject"}
    assert "you (operator-" in page.content.decode()

    empty = client.post(f"{QUEUE}{review.pk}/transition/reject/", {"reason": "  "})
    assert empty.status_code == 200
    done = client.post(f"{QUEUE}{review.pk}/transition/reject/", {"reason": "Document reported stolen"}, follow=True)

    review.refresh_from_db()
    assert (review.state, review.decision) == (ReviewState.DECIDED, ReviewDecision.REJECTED)
    assert "Review decided: rejected by staff. The organization is notified." in [
        str(m) for m in done.context["messages"]
    ]
    rows = list(transitions_for(review))
    assert [(r.to_state, r.reason, r.actor_type) for r in rows] == [
        ("assigned", "My shift", "user"),
        ("decided", "Document reported stolen", "user"),
    ]
    # Sent as the organization's process event, with the review in it.
    last = rows[-1]
    assert last.event_type == "process.status_changed" and last.published_at is None
    assert last.data["processId"] == str(process.pk)
    assert last.data["status"] == "inconclusive"
    assert last.data["review"] == {"state": "decided", "decision": "rejected"}
    assert VerificationProcess.objects.get(pk=process.pk).status == "inconclusive"  # final stays final


def test_only_the_assignee_decides(staff_client, org):
    review = ProcessReview.objects.get(process=inconclusive_process(org))
    first = staff_client("operator")
    first.post(f"{QUEUE}{review.pk}/transition/assign/", {"reason": "Mine"})
    other = staff_login(Client(), make_staff("second@example.com", "operator", org))

    page = other.get(f"{QUEUE}{review.pk}/change/")
    forced = other.post(f"{QUEUE}{review.pk}/transition/accept/", {"reason": "Looks fine"}, follow=True)

    assert transition_buttons(page) == set()
    assert "operator-" in page.content.decode()  # a fellow's email, not an id
    assert ProcessReview.objects.get(pk=review.pk).state == ReviewState.ASSIGNED
    assert Transition.objects.filter(object_id=str(review.pk), to_state="decided").count() == 0
    assert forced.status_code in (200, 403)


def test_a_viewer_sees_the_queue_but_changes_nothing_and_other_organizations_see_nothing(staff_client, org, other_org):
    review = ProcessReview.objects.get(process=inconclusive_process(org))
    viewer = staff_client("viewer")

    assert viewer.get(QUEUE).status_code == 200
    assert transition_buttons(viewer.get(f"{QUEUE}{review.pk}/change/")) == set()
    assert viewer.post(f"{QUEUE}{review.pk}/transition/assign/", {"reason": "x"}).status_code == 403
    outsider = staff_login(Client(), make_staff("outsider@example.com", "operator", other_org))
    assert outsider.get(f"{QUEUE}{review.pk}/change/").status_code == 404
    assert str(review.process_id)[:8] not in outsider.get(QUEUE).content.decode()
    assert ProcessReview.objects.get(pk=review.pk).state == ReviewState.PENDING
