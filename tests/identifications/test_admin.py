from __future__ import annotations

import pytest

from apps.audit.models import Transition
from apps.identifications.models import OtpIdentification
from tests.factories import make_person, staff_login
from tests.identifications.conftest import last_code, page_path, step_path

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


@pytest.fixture
def staff_client():
    from django.test import Client

    admin = make_person("staff@example.com")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    staff_login(client, admin)
    return client


@pytest.fixture
def submitted(client, create):
    from django.core.files.uploadedfile import SimpleUploadedFile

    created = create(two_factor_type="PERSONAL_DOCUMENT_IMAGE").json()
    path = page_path(created["url"])
    client.post(step_path(path, "send"))
    client.post(step_path(path, "code"), {"code": last_code()})
    client.post(
        step_path(path, "images"),
        {"front_image": SimpleUploadedFile("f.png", PNG), "back_image": SimpleUploadedFile("b.pdf", PDF)},
    )
    return created


def _change(identification_id):
    return f"/admin/identifications/otpidentification/{identification_id}/change/"


def _apply(staff_client, identification_id, transition):
    prefix = "audit-transition-content_type-object_id"
    management = {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "0",
        "messages-TOTAL_FORMS": "0",
        "messages-INITIAL_FORMS": "0",
        "messages-MAX_NUM_FORMS": "0",
    }
    to_form = staff_client.post(_change(identification_id), {**management, "_fsm_transition_to": transition})
    if to_form.status_code != 302 or "/transition/" not in to_form["Location"]:
        return to_form
    # The button opens a confirmation page that asks for a reason.
    return staff_client.post(to_form["Location"], {"reason": "Images checked against the register"})


def _take(staff_client, identification_id):
    """Assign the images' review to the signed-in staff member (with a reason)."""
    return _apply(staff_client, identification_id, "assign_images")


def test_it_shows_the_images_and_messages_to_staff(staff_client, submitted):
    page = staff_client.get(_change(submitted["id"]))
    assert page.status_code == 200
    # The images' review is taken first ("assign to me"); only then may its reviewer decide.
    assert b'value="assign_images"' in page.content
    assert b'value="approve"' not in page.content and b'value="reject"' not in page.content
    _take(staff_client, submitted["id"])
    page = staff_client.get(_change(submitted["id"]))
    assert b'value="assign_images"' not in page.content
    assert b'value="approve"' in page.content and b'value="reject"' in page.content
    assert b"staff@example.com" in page.content  # the reviewer, on the object page
    assert b"Messages sent" in page.content
    front = staff_client.get(f"/admin/identifications/otpidentification/{submitted['id']}/image/front/")
    assert front.status_code == 200
    assert front["Content-Type"] == "image/png"
    assert front.content == PNG
    back = staff_client.get(f"/admin/identifications/otpidentification/{submitted['id']}/image/back/")
    assert back.content == PDF


def test_it_keeps_the_images_from_people_without_admin_access(client, submitted):
    client.force_login(make_person("nobody@example.com"))
    response = client.get(f"/admin/identifications/otpidentification/{submitted['id']}/image/front/")
    assert response.status_code == 302  # to the admin login
    assert PNG not in response.content


def test_it_approves_document_images(staff_client, submitted):
    _take(staff_client, submitted["id"])
    _apply(staff_client, submitted["id"], "approve")
    assert OtpIdentification.objects.get(pk=submitted["id"]).status == "IDENTIFIED"
    row = Transition.objects.get(object_id=submitted["id"], to_state="IDENTIFIED")
    assert row.actor_type == "user"
    _assert_decision_is_an_event(row, "IDENTIFIED")


def _assert_decision_is_an_event(row: Transition, status: str) -> None:
    """The decision carries the reviewer's reason and is an event the relay sends (unlike taking
    the review): `identification.status_changed` with ids and states only."""
    assert row.reason == "Images checked against the register"
    assert row.event_type == "identification.status_changed"
    assert row.from_state == "IN_PROGRESS" and row.to_state == status
    assert row.data["status"] == status
    assert "Ana" not in str(row.data) and "ana@example.com" not in str(row.data)


def test_it_rejects_document_images(staff_client, submitted):
    _take(staff_client, submitted["id"])
    _apply(staff_client, submitted["id"], "reject")
    identification = OtpIdentification.objects.get(pk=submitted["id"])
    assert identification.status == "FAILED"
    assert identification.fail_reason == "document images rejected"
    _assert_decision_is_an_event(Transition.objects.get(object_id=submitted["id"], to_state="FAILED"), "FAILED")


def test_it_offers_no_review_before_images_arrive(staff_client, created):
    page = staff_client.get(_change(created["id"]))
    assert b'value="approve"' not in page.content and b'value="assign_images"' not in page.content
    _apply(staff_client, created["id"], "assign_images")
    _apply(staff_client, created["id"], "approve")
    assert OtpIdentification.objects.get(pk=created["id"]).status == "CREATED"


def test_the_review_queue_lists_images_waiting_and_forgets_decided_ones(staff_client, submitted, create):
    other = {"name": "Eva", "surname": "Lind", "email": "eva@example.com", "document_number": "X7654321"}
    created = create(actor=other).json()
    queue = "/admin/identifications/otpidentification/?review=waiting"
    page = staff_client.get(queue).content.decode()
    assert submitted["id"][:8] in page
    assert created["id"][:8] not in page  # no images: nothing to review
    assert "Images waiting" in page
    assert _take(staff_client, submitted["id"]).status_code == 302
    assert _apply(staff_client, submitted["id"], "approve").status_code == 302
    assert submitted["id"][:8] not in staff_client.get(queue).content.decode()


@pytest.fixture
def second_officer():
    from django.test import Client

    officer = make_person("second@example.com")
    officer.is_staff = officer.is_superuser = True
    officer.save()
    client = Client()
    staff_login(client, officer)
    return client


def test_taking_the_images_review_is_audited_with_its_reason_and_sent_to_no_one(staff_client, submitted):
    from apps.webhooks.models import Delivery

    deliveries = Delivery.objects.count()
    assert _take(staff_client, submitted["id"]).status_code == 302
    identification = OtpIdentification.objects.get(pk=submitted["id"])
    assert identification.status == "IN_PROGRESS"
    assert identification.images_reviewer.email == "staff@example.com"
    assert identification.images_assigned_at is not None
    row = Transition.objects.get(object_id=submitted["id"], event_type="identification.images_assigned")
    assert (row.from_state, row.to_state) == ("IN_PROGRESS", "IN_PROGRESS")
    assert row.reason == "Images checked against the register"
    assert row.actor_type == "user" and row.actor_id == str(identification.images_reviewer_id)
    assert row.published_at is not None  # born published: the relay never sends it
    assert Delivery.objects.count() == deliveries


def test_only_the_reviewer_decides_the_images(staff_client, second_officer, submitted):
    from apps.audit.errors import StateConflict
    from apps.identifications.services import identification_images_assign, identification_images_decide

    _take(staff_client, submitted["id"])
    # The second officer is offered neither the decision nor the review, and a forged POST changes nothing.
    page = second_officer.get(_change(submitted["id"]))
    assert b'value="approve"' not in page.content and b'value="assign_images"' not in page.content
    _apply(second_officer, submitted["id"], "approve")
    _apply(second_officer, submitted["id"], "assign_images")
    identification = OtpIdentification.objects.get(pk=submitted["id"])
    assert identification.status == "IN_PROGRESS"
    assert identification.images_reviewer.email == "staff@example.com"
    from apps.core.crypto import lookup_hash, normalize_email

    other = type(identification.images_reviewer).objects.get(
        email_hash=lookup_hash(normalize_email("second@example.com"))
    )
    with pytest.raises(StateConflict):
        identification_images_decide(identification=identification, user=other, approve=True, reason="Looks fine")
    with pytest.raises(StateConflict):
        identification_images_assign(identification=identification, user=other, reason="Mine now")
    assert not Transition.objects.filter(object_id=submitted["id"], actor_id=str(other.pk)).exists()


def test_the_queue_shows_what_waits_for_anyone_and_what_is_mine(
    staff_client, second_officer, submitted, client, create
):
    queue = "/admin/identifications/otpidentification/?review="
    assert submitted["id"][:8] in staff_client.get(queue + "unassigned").content.decode()
    assert submitted["id"][:8] not in staff_client.get(queue + "mine").content.decode()
    _take(staff_client, submitted["id"])
    assert submitted["id"][:8] not in staff_client.get(queue + "unassigned").content.decode()
    assert submitted["id"][:8] in staff_client.get(queue + "mine").content.decode()
    assert submitted["id"][:8] not in second_officer.get(queue + "mine").content.decode()
    assert submitted["id"][:8] in second_officer.get(queue + "waiting").content.decode()


def test_staff_take_several_image_reviews_at_once_with_one_reason(staff_client, submitted, create):
    other = {"name": "Eva", "surname": "Lind", "email": "eva@example.com", "document_number": "X7654321"}
    created = create(actor=other).json()  # no images yet: nothing to take
    changelist = "/admin/identifications/otpidentification/"
    chosen = {"action": "assign_images_to_me", "_selected_action": [submitted["id"], created["id"]]}
    page = staff_client.post(changelist, chosen)
    assert page.status_code == 200  # the reason page, which names the one that cannot be taken
    assert "not waiting for review" in page.content.decode()
    staff_client.post(changelist, {**chosen, "apply": "1", "reason": "Morning queue"})
    assert OtpIdentification.objects.get(pk=submitted["id"]).images_reviewer.email == "staff@example.com"
    assert OtpIdentification.objects.get(pk=created["id"]).images_reviewer is None
