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
from tests.identifications.conftest import last_code, page_path

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def _status(identification_id) -> str:
    return OtpIdentification.objects.get(pk=identification_id).status


def _send(client, path):
    return client.post(path, {"send": "1"})


def test_it_moves_to_in_progress_when_the_actor_opens_the_page(client, created):
    response = client.get(page_path(created["url"]))
    assert response.status_code == 200
    assert b'name="send"' in response.content
    assert _status(created["id"]) == "IN_PROGRESS"
    rows = Transition.objects.filter(object_id=created["id"]).values_list("to_state", flat=True)
    assert list(rows) == ["CREATED", "IN_PROGRESS"]


def test_it_refuses_a_tampered_link(client, created):
    path = page_path(created["url"])
    response = client.get(path.rstrip("/") + "x/")
    assert response.status_code == 404
    assert _status(created["id"]) == "CREATED"


def test_it_identifies_with_the_code_and_the_document_number(client, created):
    path = page_path(created["url"])
    assert _send(client, path).status_code == 302
    response = client.get(path + "?sent=1")
    assert b'name="code"' in response.content
    assert client.post(path, {"code": last_code()}).status_code == 302
    response = client.get(path)
    assert b'name="second_factor"' in response.content
    assert _status(created["id"]) == "IN_PROGRESS"
    assert client.post(path, {"second_factor": " 12345678-z "}).status_code == 302
    assert _status(created["id"]) == "IDENTIFIED"
    assert b"You are identified" in client.get(path).content
    states = list(Transition.objects.filter(object_id=created["id"]).order_by("id").values_list("to_state", flat=True))
    assert states == ["CREATED", "IN_PROGRESS", "IDENTIFIED"]


def test_it_identifies_with_the_code_alone_without_a_second_factor(client, create):
    created = create(two_factor_type=None).json()
    path = page_path(created["url"])
    _send(client, path)
    assert client.post(path, {"code": last_code()}).status_code == 302
    assert _status(created["id"]) == "IDENTIFIED"


def test_it_checks_the_email_second_factor(client, create):
    created = create(two_factor_type="EMAIL", channel={"type": "SMS"}).json()
    path = page_path(created["url"])
    _send(client, path)
    assert sms.outbox[-1].to == "+34600111222"
    client.post(path, {"code": last_code()})
    response = client.post(path, {"second_factor": "someone@example.com"})
    assert response.status_code == 400
    assert b"4 attempts left" in response.content
    client.post(path, {"second_factor": "Ana@Example.com"})
    assert _status(created["id"]) == "IDENTIFIED"


def test_it_refuses_a_code_that_is_past_ten_minutes(client, created):
    path = page_path(created["url"])
    _send(client, path)
    code = last_code()
    with time_machine.travel(timezone.now() + timedelta(minutes=11)):
        response = client.post(path, {"code": code})
    assert response.status_code == 400
    assert b"expired" in response.content
    assert OtpIdentification.objects.get(pk=created["id"]).code_verified_at is None


def test_it_fails_after_five_wrong_codes(client, created):
    path = page_path(created["url"])
    _send(client, path)
    code = last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for attempt in range(1, 5):
        response = client.post(path, {"code": wrong})
        assert response.status_code == 400
        assert f"{5 - attempt} attempt".encode() in response.content
        assert _status(created["id"]) == "IN_PROGRESS"
    response = client.post(path, {"code": wrong})
    assert _status(created["id"]) == "FAILED"
    assert b"failed" in response.content
    # The right code no longer helps.
    client.post(path, {"code": code})
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


def test_it_rate_limits_code_sends_per_destination(client, api, create):
    from tests.identifications.conftest import BASE

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


def test_it_expires_on_read_past_expires_at(client, api, created):
    from tests.identifications.conftest import BASE

    with time_machine.travel(timezone.now() + timedelta(days=30, seconds=5)):
        response = client.get(page_path(created["url"]))
        assert b"expired" in response.content
        assert api.get(f"{BASE}/{created['id']}").json()["status"] == "EXPIRED"
    row = Transition.objects.get(object_id=created["id"], to_state="EXPIRED")
    assert row.actor_type == "system"


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
    client.post(path, {"code": last_code()})
    return created, path


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def test_it_takes_document_images_encrypted_for_review(client, create):
    created, path = _to_images_step(client, create)
    assert b'name="front_image"' in client.get(path).content
    response = client.post(path, {"front_image": _upload("f.png", PNG), "back_image": _upload("b.jpg", JPEG)})
    assert response.status_code == 302
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
    response = client.post(path, {"front_image": _upload("f", front), "back_image": _upload("b.png", PNG)})
    assert response.status_code == 400
    assert error in response.content
    assert OtpIdentification.objects.get(pk=created["id"]).images_submitted_at is None
