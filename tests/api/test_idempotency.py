"""Idempotency-Key on mutating POSTs (API.md "Conventions", apps/api/idempotency.py)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection, connections
from rest_framework import exceptions

import apps.identities.api.views as identity_views
from apps.api.idempotency import idempotency_purge
from apps.api.models import IdempotencyRecord
from apps.api.tasks import purge_idempotency_records
from apps.audit.services import Actor, transition_apply
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import identity_activate
from apps.organizations.models import Scope
from apps.organizations.services import api_key_create
from tests.factories import make_api_key, make_identity, make_person

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme/external-personal-identities"
PAYLOAD = {"emailAddress": "ana@example.com", "firstName": "Ana", "lastName": "García", "managed": True}
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _post(client, body=PAYLOAD, key: str | None = "key-1", url: str = BASE):
    headers = {"Idempotency-Key": key} if key is not None else {}
    return client.post(url, body, format="json", headers=headers)


def _error_codes(response) -> list[str]:
    assert response["Content-Type"].startswith("application/json")
    return [item["code"] for item in response.json()["errors"]]


# --- Replays ------------------------------------------------------------------------------


def test_it_replays_the_first_response_to_a_repeat(api, org):
    first = _post(api)
    second = _post(api)

    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert ExternalPersonalIdentity.objects.count() == 1


def test_it_replays_many_times_and_creates_one_object(api, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        responses = [_post(api) for _ in range(4)]

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert [r.has_header("Idempotent-Replayed") for r in responses] == [False, True, True, True]
    assert ExternalPersonalIdentity.objects.count() == 1
    assert len(mail.outbox) == 1


def test_it_replays_the_first_response_not_the_current_state(api, org):
    first = _post(api)
    identity = ExternalPersonalIdentity.objects.get()
    identity_activate(identity=identity, person=make_person(email="ana@example.com"))

    replay = _post(api)

    assert replay.json()["state"] == "INVITED"
    assert replay.json() == first.json()


def test_it_replays_an_error_response_too(api, org):
    bad = {**PAYLOAD, "emailAddress": "not-an-email"}

    first = _post(api, bad)
    second = _post(api, bad)

    assert first.status_code == second.status_code == 400
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"


def test_it_replays_an_empty_204(api, org, django_capture_on_commit_callbacks):
    identity = make_identity(org)
    url = f"{BASE}/{identity.pk}/resend-invitation"

    with django_capture_on_commit_callbacks(execute=True):
        first = _post(api, None, url=url)
        second = _post(api, None, url=url)

    assert first.status_code == second.status_code == 204
    assert second["Idempotent-Replayed"] == "true"
    assert len(mail.outbox) == 1


def test_it_runs_every_post_without_the_header(api, org):
    _post(api, key=None)
    second = _post(api, {**PAYLOAD, "emailAddress": "bo@example.com"}, key=None)

    assert second.status_code == 201
    assert not second.has_header("Idempotent-Replayed")
    assert ExternalPersonalIdentity.objects.count() == 2
    assert not IdempotencyRecord.objects.exists()


def test_it_ignores_the_header_on_reads(api, org):
    make_identity(org)

    response = api.get(BASE, headers={"Idempotency-Key": "key-1"})

    assert response.status_code == 200
    assert not IdempotencyRecord.objects.exists()


# --- Refusals -------------------------------------------------------------------------------


def test_it_refuses_the_same_key_with_another_body(api, org):
    _post(api)

    response = _post(api, {**PAYLOAD, "emailAddress": "bo@example.com"})

    assert response.status_code == 422
    assert _error_codes(response) == ["idempotency_key_reused"]
    assert not response.has_header("Idempotent-Replayed")
    assert list(ExternalPersonalIdentity.objects.values_list("email_address", flat=True)) == ["ana@example.com"]


def test_it_refuses_the_same_key_on_another_path(api, org):
    identity = make_identity(org, email="carla@example.com")
    _post(api)

    response = _post(api, None, url=f"{BASE}/{identity.pk}/resend-invitation")

    assert response.status_code == 422


def test_it_refuses_a_key_that_is_too_long(api, org):
    response = _post(api, key="k" * 256)

    assert response.status_code == 400
    assert [item.get("field") for item in response.json()["errors"]] == ["Idempotency-Key"]
    assert not ExternalPersonalIdentity.objects.exists()


def test_it_answers_409_to_a_retry_while_the_first_request_is_running(api, org, monkeypatch):
    real_create = identity_views.identity_create
    retries = []

    def create_while_a_retry_arrives(**kwargs):
        retries.append(_post(api))
        return real_create(**kwargs)

    monkeypatch.setattr(identity_views, "identity_create", create_while_a_retry_arrives)

    first = _post(api)

    assert first.status_code == 201
    assert retries[0].status_code == 409
    assert _error_codes(retries[0]) == ["idempotency_key_in_flight"]
    assert ExternalPersonalIdentity.objects.count() == 1
    assert _post(api)["Idempotent-Replayed"] == "true"


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent connections; SQLite locks the file")
@pytest.mark.django_db(transaction=True)
def test_it_runs_two_simultaneous_repeats_once(org, make_client, monkeypatch):
    raw = make_api_key(org)
    real_create = identity_views.identity_create

    def slow_create(**kwargs):
        # Keep the first request in flight while the second arrives.
        time.sleep(0.5)
        return real_create(**kwargs)

    monkeypatch.setattr(identity_views, "identity_create", slow_create)
    barrier = threading.Barrier(2)
    responses: list = []
    errors: list[BaseException] = []

    def send() -> None:
        try:
            client = make_client(raw)
            barrier.wait(timeout=5)
            responses.append(_post(client))
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    created, refused = sorted(responses, key=lambda r: r.status_code)
    assert (created.status_code, refused.status_code) == (201, 409)
    # The idempotency layer refused it, not the duplicate-email check inside the service.
    assert _error_codes(refused) == ["idempotency_key_in_flight"]
    assert ExternalPersonalIdentity.objects.count() == 1


class WorkerKilled(BaseException):
    """Stands in for a process that dies mid-request: no `except Exception` sees it."""


def _die_mid_request(api, monkeypatch) -> None:
    real_create = identity_views.identity_create

    def die(**kwargs):
        raise WorkerKilled

    monkeypatch.setattr(identity_views, "identity_create", die)
    with time_machine.travel(START, tick=False), pytest.raises(WorkerKilled):
        _post(api)
    monkeypatch.setattr(identity_views, "identity_create", real_create)
    assert IdempotencyRecord.objects.get().status_code is None


def test_it_answers_409_while_an_abandoned_request_is_recent(api, org, monkeypatch):
    _die_mid_request(api, monkeypatch)

    with time_machine.travel(START + timedelta(seconds=30), tick=False):
        response = _post(api)

    assert response.status_code == 409
    assert not ExternalPersonalIdentity.objects.exists()


def test_it_takes_over_a_request_abandoned_in_flight(api, org, monkeypatch):
    _die_mid_request(api, monkeypatch)

    with time_machine.travel(START + timedelta(seconds=61), tick=False):
        response = _post(api)
        replay = _post(api)

    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == response.json()
    assert ExternalPersonalIdentity.objects.count() == 1


# --- Scope of a key -------------------------------------------------------------------------


def test_it_keeps_keys_apart_per_api_key(org, make_client):
    first_client = make_client(make_api_key(org))
    second_client = make_client(make_api_key(org))
    _post(first_client)

    response = _post(second_client, {**PAYLOAD, "emailAddress": "bo@example.com"})

    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert ExternalPersonalIdentity.objects.count() == 2


def test_it_does_not_replay_another_keys_response(org, make_client):
    first_client = make_client(make_api_key(org))
    second_client = make_client(make_api_key(org))
    _post(first_client)

    response = _post(second_client)

    assert not response.has_header("Idempotent-Replayed")
    assert response.status_code == 409  # the email is taken: the request really ran
    assert ExternalPersonalIdentity.objects.count() == 1


def test_it_keeps_the_outsiders_keys_apart(org, other_org, api, outsider_api):
    _post(api)

    response = _post(outsider_api, url="/api/v1/orgs/globex/external-personal-identities")

    assert response.status_code == 201
    assert not response.has_header("Idempotent-Replayed")
    assert ExternalPersonalIdentity.objects.filter(organization=other_org).count() == 1


def test_it_does_not_replay_to_an_outsider_on_the_owners_path(org, api, outsider_api):
    _post(api)

    response = _post(outsider_api)

    assert response.status_code == 404
    assert "ana@example.com" not in response.content.decode()


def test_it_does_not_replay_to_a_key_lacking_the_scope(org, api, make_client):
    _post(api)
    scopeless = make_client(make_api_key(org, scopes=[Scope.ACTIVITIES]))

    response = _post(scopeless)

    assert response.status_code == 403
    assert "ana@example.com" not in response.content.decode()


# --- Failures are not stored ----------------------------------------------------------------


def test_it_does_not_store_an_unhandled_500(api, org, monkeypatch):
    real_create = identity_views.identity_create

    def explode(**kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(identity_views, "identity_create", explode)
    failed = _post(api)
    monkeypatch.setattr(identity_views, "identity_create", real_create)

    retried = _post(api)

    assert failed.status_code == 500
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")
    assert ExternalPersonalIdentity.objects.count() == 1


def test_it_does_not_store_a_5xx_response(api, org, monkeypatch):
    real_create = identity_views.identity_create

    class Unavailable(exceptions.APIException):
        status_code = 503
        default_code = "unavailable"

    def unavailable(**kwargs):
        raise Unavailable("Try again later.")

    monkeypatch.setattr(identity_views, "identity_create", unavailable)
    failed = _post(api)
    assert not IdempotencyRecord.objects.exists()
    monkeypatch.setattr(identity_views, "identity_create", real_create)

    retried = _post(api)

    assert failed.status_code == 503
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")


# --- Purge ----------------------------------------------------------------------------------


def test_it_forgets_keys_after_the_retention_period(api, org, settings):
    with time_machine.travel(START, tick=False):
        _post(api)
    with time_machine.travel(START + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS - 60), tick=False):
        assert purge_idempotency_records() == 0
    with time_machine.travel(START + timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS + 60), tick=False):
        assert purge_idempotency_records() == 1

        reused = _post(api, {**PAYLOAD, "emailAddress": "bo@example.com"})

    assert reused.status_code == 201
    assert ExternalPersonalIdentity.objects.count() == 2


def test_it_purges_only_older_records(org):
    key, _ = api_key_create(organization=org)
    with time_machine.travel(START, tick=False):
        IdempotencyRecord.objects.create(api_key=key, key="old", fingerprint="x", status_code=201)
    with time_machine.travel(START + timedelta(hours=2), tick=False):
        IdempotencyRecord.objects.create(api_key=key, key="new", fingerprint="x", status_code=201)

        assert idempotency_purge(older_than=timedelta(hours=1)) == 1

    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]


def test_it_keeps_a_state_change_made_under_a_replayed_key(api, org):
    """A replay never runs the action again, even when it would now fail."""
    identity = make_identity(org)
    url = f"{BASE}/{identity.pk}/resend-invitation"
    _post(api, None, url=url)
    active = identity_activate(identity=identity, person=make_person(email="ana@example.com"))
    transition_apply(active, "deactivate", actor=Actor.system("test"))

    replay = _post(api, None, url=url)

    assert replay.status_code == 204
    assert ExternalPersonalIdentity.objects.get().state == IdentityState.DEACTIVATED
