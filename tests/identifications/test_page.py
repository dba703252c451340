from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.audit.models import Transition
from apps.identifications import sms
from apps.identifications.models import OtpIdentification, OtpMessage
from tests.identifications.conftest import BASE, STEPS, last_code, page_path, step_path

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _status(identification_id) -> str:
    return OtpIdentification.objects.get(pk=identification_id).status


def _send(client, path):
    return client.post(step_path(path, "send"), {"send": "1"})


def _code(client, path, code):
    return client.post(step_path(path, "code"), {"code": code})


def _factor(client, path, value):
    return client.post(step_path(path, "second_factor"), {"second_factor": value})


def _transitions(identification_id) -> list[tuple[str, str]]:
    rows = Transition.objects.filter(object_id=identification_id).order_by("id")
    return list(rows.values_list("to_state", "reason"))


def test_opening_the_page_changes_nothing_and_the_first_code_request_starts_it(client, api, created):
    response = client.get(page_path(created["url"]))
    assert response.status_code == 200
    assert b'name="send"' in response.content
    assert _status(created["id"]) == "CREATED"
    assert _transitions(created["id"]) == [("CREATED", "created")]

    assert _send(client, page_path(created["url"])).status_code == 302
    assert _status(created["id"]) == "IN_PROGRESS"
    assert _transitions(created["id"]) == [("CREATED", "created"), ("IN_PROGRESS", "code requested")]
    row = Transition.objects.get(object_id=created["id"], to_state="IN_PROGRESS")
    assert (row.actor_type, row.actor_label) == ("system", "actor page")
    # A second code is no second start.
    assert _send(client, page_path(created["url"])).status_code == 302
    assert len(_transitions(created["id"])) == 2


def test_an_opened_but_unstarted_identification_is_deleted_without_force(client, api, created):
    """A link opened by a mail scanner or a preview is no act of the actor: still CREATED."""
    client.get(page_path(created["url"]))
    assert api.delete(f"{BASE}/{created['id']}").status_code == 204


def _writes(queries) -> list[str]:
    reads = ("SELECT", "SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT", "SET ")
    return [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(reads)]


def test_a_get_never_writes_at_any_step(client, create):
    from django.test.utils import CaptureQueriesContext

    created = create(two_factor_type="PERSONAL_DOCUMENT_IMAGE").json()
    path = page_path(created["url"])
    pages = []

    def look(query=""):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path + query)
        assert response.status_code == 200
        assert _writes(queries.captured_queries) == []
        pages.append(response)

    look()
    _send(client, path)
    look("?sent=1")
    _code(client, path, last_code())
    look()
    client.post(step_path(path, "images"), {"front_image": _upload("f.png", PNG), "back_image": _upload("b.png", PNG)})
    look()
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        look()
    assert b"Step 1" in pages[0].content
    assert b'name="code"' in pages[1].content
    assert b'name="front_image"' in pages[2].content
    assert b"review" in pages[3].content
    assert b"This identification has expired" in pages[4].content


def test_the_page_takes_no_post_of_its_own(client, created):
    path = page_path(created["url"])
    assert client.post(path, {"send": "1"}).status_code == 405
    assert _status(created["id"]) == "CREATED"
    assert not OtpMessage.objects.filter(identification_id=created["id"], kind="CODE").exists()


@pytest.mark.parametrize("step", sorted(STEPS))
def test_every_step_checks_the_signed_link(client, created, step):
    path = page_path(created["url"])
    tampered = path.rstrip("/") + "x/"
    response = client.post(step_path(tampered, step), {"code": "123456", "second_factor": "12345678Z"})
    assert response.status_code == 404
    assert b"This identification link is not valid" in response.content
    other = f"/identify/{'0' * 8}-0000-4000-8000-{'0' * 12}/{path.split('/')[3]}/"
    assert client.post(step_path(other, step), {"code": "123456"}).status_code == 404
    assert _transitions(created["id"]) == [("CREATED", "created")]
    assert not OtpMessage.objects.filter(identification_id=created["id"], kind="CODE").exists()


@pytest.mark.parametrize("step", sorted(STEPS))
def test_every_step_refuses_a_post_without_the_csrf_token(created, step):
    from django.test import Client

    path = page_path(created["url"])
    checked = Client(enforce_csrf_checks=True)
    checked.get(path)
    response = checked.post(step_path(path, step), {"code": "123456", "second_factor": "12345678Z"})
    assert response.status_code == 403
    assert _transitions(created["id"]) == [("CREATED", "created")]


def test_a_step_out_of_turn_answers_409_with_the_page_where_it_stands(client, created):
    path = page_path(created["url"])
    response = _factor(client, path, "12345678Z")
    assert response.status_code == 409
    assert b"This step is already done" in response.content
    assert b'name="send"' in response.content
    images = {"front_image": _upload("f.gif", b"GIF89a"), "back_image": _upload("b.png", PNG)}
    assert client.post(step_path(path, "images"), images).status_code == 409
    _send(client, path)
    assert _code(client, path, last_code()).status_code == 302
    response = _code(client, path, "123456")
    assert response.status_code == 409
    assert b'name="second_factor"' in response.content
    assert _factor(client, path, "12345678Z").status_code == 302
    response = _send(client, path)
    assert response.status_code == 409
    assert b"This identification has moved on" in response.content
    assert b"You are identified" in response.content
    assert OtpMessage.objects.filter(identification_id=created["id"], kind="CODE").count() == 1


def test_it_refuses_a_tampered_link(client, created):
    path = page_path(created["url"])
    response = client.get(path.rstrip("/") + "x/")
    assert response.status_code == 404
    assert _status(created["id"]) == "CREATED"


def test_it_identifies_with_the_code_and_the_document_number(client, created):
    path = page_path(created["url"])
    response = _send(client, path)
    assert (response.status_code, response["Location"]) == (302, path + "?sent=1")
    response = client.get(path + "?sent=1")
    assert b'name="code"' in response.content
    assert b"We sent a code to your email" in response.content
    response = _code(client, path, last_code())
    assert (response.status_code, response["Location"]) == (302, path)
    response = client.get(path)
    assert b'name="second_factor"' in response.content
    assert _status(created["id"]) == "IN_PROGRESS"
    assert _factor(client, path, " 12345678-z ").status_code == 302
    assert _status(created["id"]) == "IDENTIFIED"
    assert b"You are identified" in client.get(path).content
    states = list(Transition.objects.filter(object_id=created["id"]).order_by("id").values_list("to_state", flat=True))
    assert states == ["CREATED", "IN_PROGRESS", "IDENTIFIED"]


def test_it_identifies_with_the_code_alone_without_a_second_factor(client, create):
    created = create(two_factor_type=None).json()
    path = page_path(created["url"])
    _send(client, path)
    assert _code(client, path, last_code()).status_code == 302
    assert _status(created["id"]) == "IDENTIFIED"


def test_it_checks_the_email_second_factor(client, create):
    created = create(two_factor_type="EMAIL", channel={"type": "SMS"}).json()
    path = page_path(created["url"])
    _send(client, path)
    assert sms.outbox[-1].to == "+34600111222"
    _code(client, path, last_code())
    response = _factor(client, path, "someone@example.com")
    assert response.status_code == 400
    assert b"4 attempts left" in response.content
    assert b'id="id_second_factor_error"' in response.content  # next to its field
    _factor(client, path, "Ana@Example.com")
    assert _status(created["id"]) == "IDENTIFIED"


def test_it_refuses_a_code_that_is_past_ten_minutes(client, created):
    path = page_path(created["url"])
    _send(client, path)
    code = last_code()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = _code(client, path, code)
    assert response.status_code == 400
    assert b"expired" in response.content
    assert OtpIdentification.objects.get(pk=created["id"]).code_verified_at is None


def test_it_fails_after_five_wrong_codes(client, created):
    path = page_path(created["url"])
    _send(client, path)
    code = last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in range(1, 5):
        response = _code(client, path, wrong)
        assert response.status_code == 400
        assert b'id="id_code_error"' in response.content
        assert f"{5 - attempt} attempt".encode() in response.content
        assert _status(created["id"]) == "IN_PROGRESS"
    response = _code(client, path, wrong)
    assert _status(created["id"]) == "FAILED"
    assert b"failed" in response.content
    # The right code no longer helps.
    assert _code(client, path, code).status_code == 409
    assert _status(created["id"]) == "FAILED"
    row = Transition.objects.get(object_id=created["id"], to_state="FAILED")
    assert row.reason == "too many wrong answers"


def test_it_rate_limits_code_sends_per_identification(client, created):
    path = page_path(created["url"])
    for _ in range(3):
        assert _send(client, path).status_code == 302
    response = _send(client, path)
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert b"Wait a little" in response.content
    assert OtpMessage.objects.filter(identification_id=created["id"], kind="CODE").count() == 3
    # The sentence is in the page's language.
    spanish = client.post(step_path(path, "send"), HTTP_ACCEPT_LANGUAGE="es")
    assert spanish.status_code == 429
    assert "Has pedido 3 códigos en 10 minutos" in spanish.content.decode()


def test_it_rate_limits_code_sends_per_destination(client, api, create):
    sent = 0
    for n in range(2):
        created = create(
            actor={"name": "A", "surname": "B", "email": "ana@example.com", "document_number": str(n)}
        ).json()
        path = page_path(created["url"])
        for _ in range(3):
            if _send(client, path).status_code == 302:
                sent += 1
        api.post(f"{BASE}/{created['id']}/cancel", {"reason": "next"}, format="json")
    assert sent == 5
    created = create(actor={"name": "A", "surname": "B", "email": "ana@example.com", "document_number": "9"}).json()
    response = _send(client, page_path(created["url"]))
    assert response.status_code == 429
    assert b"Too many codes were sent to this address" in response.content
    assert int(response["Retry-After"]) > 0
    # A refused first request is no start: nothing was sent.
    assert _status(created["id"]) == "CREATED"


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?")


def test_it_never_stores_or_logs_the_code_in_clear(client, created, caplog):
    caplog.set_level(logging.DEBUG)
    path = page_path(created["url"])
    _send(client, path)
    code = last_code()
    assert code not in caplog.text
    with connection.cursor() as cursor:
        for table in ("identifications_otpidentification", "identifications_otpmessage", "audit_transition"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608 - fixed table names
            for row in cursor.fetchall():
                # Timestamps are left out: their microseconds could equal the code by chance.
                texts = [_TIMESTAMP.sub("", str(value)) for value in row if not isinstance(value, datetime)]
                assert all(code not in text for text in texts), table
    message = OtpMessage.objects.get(identification_id=created["id"], kind="CODE")
    assert (message.channel, message.status, message.destination) == ("EMAIL", "SENT", "ana@example.com")


def test_it_logs_a_failed_delivery_without_failing_the_request(api, settings, create):
    settings.SMS_BACKEND = "tests.identifications.test_page.BrokenSms"
    response = create(channel={"type": "SMS"})
    assert response.status_code == 201
    message = OtpMessage.objects.get(identification_id=response.json()["id"])
    assert (message.status, message.error) == ("FAILED", "ConnectionError")


class BrokenSms:
    def send(self, message):
        raise ConnectionError("gateway down")


def test_the_page_shows_an_overdue_identification_expired_and_the_api_read_expires_it(client, api, created):
    path = page_path(created["url"])
    _send(client, path)
    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=5)):
        response = client.get(path)
        assert response.status_code == 200
        assert b"This identification has expired" in response.content
        assert b'id="identification-status">Expired<' in response.content
        # The page only reads: the expiry is written by the API's read-time guard (or the sweep).
        assert _status(created["id"]) == "IN_PROGRESS"
        response = _code(client, path, last_code())
        assert response.status_code == 409
        assert b"This identification has expired" in response.content
        assert _status(created["id"]) == "IN_PROGRESS"
        assert api.get(f"{BASE}/{created['id']}").json()["status"] == "EXPIRED"
    row = Transition.objects.get(object_id=created["id"], to_state="EXPIRED")
    assert row.actor_type == "system"
    assert b"This identification has expired" in client.get(path).content


def test_it_expires_overdue_identifications_in_the_sweep(create):
    from apps.identifications.tasks import expire_overdue_identifications

    short = create(expires_in="PT1H").json()
    long = create(
        actor={"name": "Bo", "surname": "Li", "email": "bo@example.com", "document_number": "2"}, expires_in="P2D"
    ).json()
    assert expire_overdue_identifications() == 0
    with time_machine.travel(timezone.now() + timedelta(hours=2)):
        assert expire_overdue_identifications() == 1
        assert expire_overdue_identifications() == 0
    assert _status(short["id"]) == "EXPIRED"
    assert _status(long["id"]) == "CREATED"


def _to_images_step(client, create):
    created = create(two_factor_type="PERSONAL_DOCUMENT_IMAGE").json()
    path = page_path(created["url"])
    _send(client, path)
    _code(client, path, last_code())
    return created, path


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_it_takes_document_images_encrypted_for_review(client, create):
    created, path = _to_images_step(client, create)
    assert b'name="front_image"' in client.get(path).content
    response = client.post(
        step_path(path, "images"), {"front_image": _upload("f.png", PNG), "back_image": _upload("b.jpg", JPEG)}
    )
    assert (response.status_code, response["Location"]) == (302, path)
    identification = OtpIdentification.objects.get(pk=created["id"])
    assert identification.status == "IN_PROGRESS"
    assert identification.images_submitted_at is not None
    assert (identification.front_image_type, identification.back_image_type) == ("image/png", "image/jpeg")
    with connection.cursor() as cursor:
        cursor.execute("SELECT front_image FROM identifications_otpidentification")
        assert cursor.fetchone()[0].startswith("gAAAA")
    assert b"review" in client.get(path).content


@pytest.mark.parametrize(
    ("front", "error"),
    [
        (b"GIF89a" + b"\x00" * 20, b"JPEG, PNG or PDF"),
        (b"\xff\xd8\xff" + b"\x00" * (5 * 1024 * 1024), b"larger than 5 MB"),
    ],
)
def test_it_refuses_bad_document_files(client, create, front, error):
    created, path = _to_images_step(client, create)
    response = client.post(
        step_path(path, "images"), {"front_image": _upload("f", front), "back_image": _upload("b.png", PNG)}
    )
    assert response.status_code == 400
    assert b'id="id_front_image_error"' in response.content
    assert error in response.content
    assert OtpIdentification.objects.get(pk=created["id"]).images_submitted_at is None


@pytest.mark.parametrize(
    ("channel", "shown", "hidden"),
    [("EMAIL", "a***@example.com", "ana@example.com"), ("SMS", "*********22", "600111222")],
)
def test_the_page_says_where_the_code_goes_masked(client, create, channel, shown, hidden):
    response = create(channel={"type": channel})
    assert response.status_code == 201, response.json()
    page = client.get(page_path(response.json()["url"]))
    body = page.content.decode()
    assert f"<strong>{shown}</strong>" in body
    assert hidden not in body
    spanish = client.get(page_path(response.json()["url"]), HTTP_ACCEPT_LANGUAGE="es")
    assert "Te enviamos un código de seis dígitos" in spanish.content.decode()
    assert f"<strong>{shown}</strong>" in spanish.content.decode()
