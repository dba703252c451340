"""Hot session status from the cache, kept exact by the transitions."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone
from rest_framework.test import APIClient

from apps.audit.services import Actor
from apps.transfers.models import TransferSession
from apps.transfers.services import session_create, session_retrieve
from apps.transfers.status_cache import status_cached, status_remember
from tests.factories import make_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def session(org):
    return session_create(
        organization=org, scopes=["email"], actor=Actor.system("test"), expires_in=timedelta(minutes=5)
    )


def _status(session_id, token):
    return APIClient().get(f"/api/v1/session/{session_id}/status", HTTP_X_SESSION_TOKEN=token)


def test_a_hot_status_is_answered_without_the_database(session, django_assert_num_queries):
    s, token = session
    first = _status(s.pk, token)
    assert first.status_code == 200
    with django_assert_num_queries(0):
        again = _status(s.pk, token)
    assert (
        again.json()
        == first.json()
        == {
            "session_id": str(s.pk),
            "status": "initialized",
            "expires_at": first.json()["expires_at"],
            "replaced_by": None,
        }
    )


def test_the_token_is_still_checked_against_the_cached_hash(session):
    s, token = session
    assert _status(s.pk, token).status_code == 200
    assert status_cached(s.pk) is not None
    for wrong in ("", token[:-1] + ("A" if token[-1] != "A" else "B"), "x" * 43):
        response = _status(s.pk, wrong)
        assert response.status_code == 401
        assert "status" not in response.json()


def test_a_transition_replaces_the_entry_on_commit(session, django_capture_on_commit_callbacks):
    s, token = session
    assert _status(s.pk, token).json()["status"] == "initialized"
    with django_capture_on_commit_callbacks(execute=True):
        session_retrieve(session=s, person=make_person("eva@example.com"))
    assert status_cached(s.pk)["status"] == "retrieved"
    assert _status(s.pk, token).json()["status"] == "retrieved"


def test_a_reader_never_overwrites_a_newer_entry(session, django_capture_on_commit_callbacks):
    s, token = session
    stale = TransferSession.objects.get(pk=s.pk)  # read before the change
    with django_capture_on_commit_callbacks(execute=True):
        session_retrieve(session=s, person=make_person("eva@example.com"))
    status_remember(stale)
    assert _status(s.pk, token).json()["status"] == "retrieved"


def test_a_cached_open_session_past_expires_at_expires_on_read(session):
    s, token = session
    assert _status(s.pk, token).json()["status"] == "initialized"
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert _status(s.pk, token).json()["status"] == "expired"
    assert TransferSession.objects.get(pk=s.pk).status == "expired"
