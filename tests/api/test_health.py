"""/healthz: 200 when the database and the broker answer, 503 (still JSON) when one does not."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import OperationalError

import apps.api.health as health
from config.celery import app as celery_app

pytestmark = pytest.mark.django_db


class _DeadDatabase:
    vendor = "postgresql"

    def cursor(self):
        raise OperationalError('connection to server at "db" (10.0.0.5), port 5432 failed: password authentication')


class _DeadBrokerConnection:
    def ensure_connection(self, **kwargs):
        raise ConnectionRefusedError("[Errno 111] Connection refused to redis://:secret@broker:6379")


@contextmanager
def _dead_broker():
    yield _DeadBrokerConnection()


def test_it_answers_200_when_all_is_well(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is True
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_it_needs_no_api_key_and_ignores_a_bad_one(client):
    response = client.get("/healthz", headers={"Authorization": "Bearer garbage"})

    assert response.status_code == 200


def test_it_answers_503_when_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr(health, "connection", _DeadDatabase())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is False
    assert body["broker"]["ok"] is True
    assert "OperationalError" in body["database"]["detail"]
    assert "password" not in response.content.decode()
    assert "10.0.0.5" not in response.content.decode()


def test_it_answers_503_when_the_broker_is_down(client, monkeypatch, settings):
    settings.CELERY_BROKER_URL = "redis://broker:6379/0"
    monkeypatch.setattr(celery_app, "connection_for_write", _dead_broker)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"]["ok"] is True
    assert body["broker"]["ok"] is False
    assert body["broker"]["detail"].startswith("redis")
    assert "secret" not in response.content.decode()


def test_it_answers_503_when_the_filesystem_broker_folder_cannot_be_made(client, settings, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_FOLDER = blocker / "broker"

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["broker"]["ok"] is False


def test_it_checks_a_writable_filesystem_broker_folder(client, settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_FOLDER = tmp_path / "broker"

    response = client.get("/healthz")

    assert response.status_code == 200
    assert (tmp_path / "broker").is_dir()
    assert response.json()["broker"] == {"ok": True, "detail": "filesystem"}


def test_it_answers_503_when_both_are_down(client, monkeypatch, settings):
    monkeypatch.setattr(health, "connection", _DeadDatabase())
    settings.CELERY_BROKER_URL = "redis://broker:6379/0"
    monkeypatch.setattr(celery_app, "connection_for_write", _dead_broker)

    response = client.get("/healthz")

    assert response.status_code == 503
    body = response.json()
    assert (body["database"]["ok"], body["broker"]["ok"]) == (False, False)
