"""The email a person gets when a request waits for them (apps.activities.notices)."""

from __future__ import annotations

import pytest
from django.core import mail

from apps.activities.models import ActivityType
from apps.activities.services import activity_create
from apps.audit.services import Actor
from tests.activities.conftest import DEFAULTS, make_party

pytestmark = pytest.mark.django_db


def _create(org, initiator, receptor, capture, type=ActivityType.REQUEST, purpose="Opening your account"):
    with capture(execute=True):
        return activity_create(
            organization=org,
            actor=Actor.system("test"),
            type=type,
            initiator_id=initiator.pk,
            receptor_id=receptor.pk,
            purpose=purpose,
            **DEFAULTS[type],
        )


@pytest.fixture
def olivia(org):
    return make_party(org, "olivia@example.com", first_name="Olivia", last_name="Owens")


@pytest.fixture
def noor(org):
    return make_party(org, "noor@example.com", managed=False, first_name="Noor", last_name="Bakker")


def test_a_person_who_answers_for_themselves_is_told_once_without_anyone_elses_data(
    org, olivia, noor, django_capture_on_commit_callbacks
):
    activity = _create(org, olivia, noor, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["noor@example.com"]
    assert org.name in message.subject
    assert f"/me/activities/{activity.pk}/" in message.body
    html = message.alternatives[0][0]
    assert f"/me/activities/{activity.pk}/" in html
    for private in ("Olivia", "Owens", "olivia@example.com", "Opening your account", "Noor", "Bakker"):
        assert private not in message.body and private not in html and private not in message.subject


def test_it_is_written_in_the_persons_language(org, olivia, noor, django_capture_on_commit_callbacks):
    noor.person.language = "es"
    noor.person.save()
    _create(org, olivia, noor, django_capture_on_commit_callbacks)
    assert "espera tu respuesta" in mail.outbox[0].subject
    assert "Solicitud de datos" in mail.outbox[0].body or "solicitud" in mail.outbox[0].body.lower()


def test_the_switcher_keeps_a_signed_in_persons_language(client, noor):
    client.force_login(noor.person)
    response = client.post("/i18n/setlang/", {"language": "es", "next": "/me/"})
    assert response.status_code == 302
    noor.person.refresh_from_db()
    assert noor.person.language == "es"
    client.post("/i18n/setlang/", {"language": "xx", "next": "/me/"})
    noor.person.refresh_from_db()
    assert noor.person.language == "es"  # not a portal language: kept as it was


def test_a_managed_receptor_gets_no_mail(org, olivia, django_capture_on_commit_callbacks):
    managed = make_party(org, "mia@example.com", first_name="Mia")
    _create(org, olivia, managed, django_capture_on_commit_callbacks)
    assert mail.outbox == []


def test_a_burst_of_requests_sends_at_most_three_mails_an_hour(org, olivia, noor, django_capture_on_commit_callbacks):
    activities = [_create(org, olivia, noor, django_capture_on_commit_callbacks) for _ in range(5)]
    assert len(mail.outbox) == 3
    assert all(a.status == "PENDING" for a in activities)  # the requests all wait, mail or not


def test_nothing_is_sent_when_the_creation_rolls_back(org, olivia, noor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        activity_create(
            organization=org,
            actor=Actor.system("test"),
            type=ActivityType.REQUEST,
            initiator_id=olivia.pk,
            receptor_id=noor.pk,
            purpose="x",
            **DEFAULTS[ActivityType.REQUEST],
        )
    assert callbacks  # queued for after the commit, not sent inside the transaction
    assert mail.outbox == []


def test_a_broker_outage_loses_the_mail_not_the_request(
    org, olivia, noor, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from apps.activities import tasks

    def refuse(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.notify_receptor, "delay", refuse)
    activity = _create(org, olivia, noor, django_capture_on_commit_callbacks)
    assert activity.status == "PENDING"
    assert mail.outbox == []
    assert "Could not queue the request notice" in caplog.text
