"""Signed delivery to a real HTTP receiver, with retries on the published schedule (API.md "Webhooks")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine

from apps.identities.services import identity_activate
from apps.webhooks import sender, tasks
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from apps.webhooks.relay import deliveries_dispatch_due
from tests.factories import make_identity, make_person
from tests.webhooks.conftest import Reply

pytestmark = pytest.mark.django_db

IDENTITIES = "/api/v1/orgs/acme/external-personal-identities"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
# What follows the immediate retry and the 5 s one: each waits in next_attempt_at for the relay.
LONG_DELAYS = [
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
]
ATTEMPTS = 9  # the first one and eight retries


@pytest.fixture
def countdowns():
    """Every countdown the deliver task is queued with (the tasks still run, eagerly)."""
    seen: list[float | None] = []
    original = tasks.deliver.apply_async

    def record(*args, **kwargs):
        seen.append(kwargs.get("countdown"))
        return original(*args, **kwargs)

    with mock.patch("apps.webhooks.tasks.deliver.apply_async", side_effect=record):
        yield seen


def _only_delivery() -> Delivery:
    (delivery,) = Delivery.objects.all()
    return delivery


def _statuses(delivery: Delivery) -> list[int | None]:
    return list(
        DeliveryAttempt.objects.filter(delivery=delivery).order_by("number").values_list("status_code", flat=True)
    )


def _drive_long_retries(delivery: Delivery, traveller, capture) -> None:
    """Walk through the long delays: nothing is due a second early, the relay sends it on time."""
    for delay in LONG_DELAYS:
        delivery.refresh_from_db()
        now = datetime.now(tz=UTC)
        assert delivery.status == DeliveryStatus.PENDING
        assert delivery.next_attempt_at == now + delay
        traveller.shift(delay - timedelta(seconds=1))
        assert deliveries_dispatch_due() == 0
        traveller.shift(timedelta(seconds=1))
        with capture(execute=True):
            assert deliveries_dispatch_due() == 1


def test_it_delivers_identity_state_changes_signed(
    api, org, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(org, receiver.url())

    with django_capture_on_commit_callbacks(execute=True):
        identity = make_identity(org)
    with django_capture_on_commit_callbacks(execute=True):
        identity_activate(identity=identity, person=make_person(email="ana@example.com"))
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"{IDENTITIES}/{identity.pk}", {"state": "DEACTIVATED"}, format="json")

    assert response.status_code == 200
    assert len(receiver.requests) == 3
    changes = []
    for request in receiver.requests:
        body = request.verify(secret)  # raises unless the signature and timestamp verify
        assert request.path == "/hook"
        assert request.headers["content-type"] == "application/json"
        assert request.headers["webhook-id"] == body["id"]
        assert request.headers["webhook-signature"].startswith("v1,")
        assert set(body) == {"id", "type", "created_at", "data"}
        assert body["type"] == "identity.state_changed"
        assert datetime.strptime(body["created_at"], "%Y-%m-%dT%H:%M:%SZ")
        data = body["data"]
        assert (
            {"id", "state", "previous_state", "managed"}
            <= set(data)
            <= {"id", "state", "previous_state", "managed", "reason"}
        )
        assert (data["id"], data["managed"]) == (str(identity.pk), True)
        changes.append((data["previous_state"], data["state"]))
    assert changes == [(None, "INVITED"), ("INVITED", "ACTIVE"), ("ACTIVE", "DEACTIVATED")]
    assert len(set(receiver.webhook_ids())) == 3
    assert b"ana@example.com" not in b"".join(r.body for r in receiver.requests)
    assert set(Delivery.objects.filter(endpoint=endpoint).values_list("status", "attempt_count")) == {("succeeded", 1)}


def test_it_does_not_verify_with_another_secret(org, receiver, make_endpoint, django_capture_on_commit_callbacks):
    from standardwebhooks.webhooks import WebhookVerificationError

    make_endpoint(org, receiver.url())
    _, other_secret = make_endpoint(org, "http://127.0.0.1:9/unused", events=["webhook.ping"])

    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)

    (request,) = receiver.requests
    with pytest.raises(WebhookVerificationError):
        request.verify(other_secret)


def test_it_retries_a_500_with_the_same_webhook_id(org, receiver, make_endpoint, django_capture_on_commit_callbacks):
    _, secret = make_endpoint(org, receiver.url())
    receiver.script(500, 200)

    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)

    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert first.verify(secret) == second.verify(secret)
    delivery = _only_delivery()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.attempt_count == 2
    assert delivery.succeeded_at is not None
    assert _statuses(delivery) == [500, 200]


def test_it_keeps_long_delays_in_next_attempt_at_and_ends_dead(
    org, receiver, make_endpoint, countdowns, django_capture_on_commit_callbacks
):
    make_endpoint(org, receiver.url())
    receiver.default = Reply(500, b"upstream exploded")

    with time_machine.travel(START, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            make_identity(org)

        # The first attempt and the immediate retry ran; the next waits 5 s.
        delivery = _only_delivery()
        assert len(receiver.requests) == 2
        assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 2)
        assert delivery.next_attempt_at == START + timedelta(seconds=5)
        assert delivery_attempt(delivery_id=delivery.pk) is None  # not due yet: nothing sent
        assert len(receiver.requests) == 2

        # The 5 s retry comes from a short Celery countdown.
        traveller.shift(timedelta(seconds=5))
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery_attempt(delivery_id=delivery.pk) == DeliveryStatus.PENDING
        assert len(receiver.requests) == 3

        _drive_long_retries(delivery, traveller, django_capture_on_commit_callbacks)

        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.DEAD
        assert delivery.attempt_count == ATTEMPTS
        assert delivery.next_attempt_at is None
        assert delivery.last_status_code == 500
        assert delivery.last_response_excerpt == "upstream exploded"
        assert delivery.last_error == ""
        assert _statuses(delivery) == [500] * ATTEMPTS
        assert len(receiver.requests) == ATTEMPTS
        assert len(set(receiver.webhook_ids())) == 1

        # Dead means dead: later relays send nothing more.
        traveller.shift(timedelta(days=2))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_dispatch_due() == 0
        assert len(receiver.requests) == ATTEMPTS

    assert countdowns, "the deliver task was never queued"
    assert all(c is None or c <= 60 for c in countdowns), countdowns
    assert 5 in countdowns


@pytest.mark.parametrize("answers", [(429, 200), (502, 200), (503, 503, 200)])
def test_it_retries_429_and_5xx(org, receiver, make_endpoint, answers, django_capture_on_commit_callbacks):
    make_endpoint(org, receiver.url(), events=["webhook.ping"])
    receiver.script(*answers)

    with time_machine.travel(START, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            delivery = endpoint_ping(endpoint=org.webhooks.get())
        if len(answers) == 3:  # the third attempt waits 5 s
            traveller.shift(timedelta(seconds=5))
            with django_capture_on_commit_callbacks(execute=True):
                delivery_attempt(delivery_id=delivery.pk)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert _statuses(delivery) == list(answers)
    assert len(set(receiver.webhook_ids())) == 1


@pytest.mark.parametrize("code", [400, 401, 404, 410, 413])
def test_it_does_not_retry_other_4xx(org, receiver, make_endpoint, code, django_capture_on_commit_callbacks):
    make_endpoint(org, receiver.url())
    receiver.default = Reply(code, b"no such hook")

    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)

    delivery = _only_delivery()
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempt_count == 1
    assert delivery.next_attempt_at is None
    assert (delivery.last_status_code, delivery.last_response_excerpt) == (code, "no such hook")
    assert len(receiver.requests) == 1
    with (
        time_machine.travel(datetime.now(tz=UTC) + timedelta(days=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        deliveries_dispatch_due()
    assert len(receiver.requests) == 1


def test_it_retries_network_errors_and_keeps_the_error(
    org, closed_url, make_endpoint, django_capture_on_commit_callbacks
):
    make_endpoint(org, closed_url)

    with time_machine.travel(START, tick=False) as traveller:
        with django_capture_on_commit_callbacks(execute=True):
            make_identity(org)

        delivery = _only_delivery()
        assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 2)
        assert delivery.last_status_code is None
        assert "refused" in delivery.last_error.lower()
        first = DeliveryAttempt.objects.get(delivery=delivery, number=1)
        assert first.status_code is None and "refused" in first.error.lower()

        traveller.shift(timedelta(seconds=5))
        with django_capture_on_commit_callbacks(execute=True):
            delivery_attempt(delivery_id=delivery.pk)
        _drive_long_retries(delivery, traveller, django_capture_on_commit_callbacks)

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempt_count == ATTEMPTS
    assert "refused" in delivery.last_error.lower()
    assert delivery.last_status_code is None


def test_it_gives_up_on_a_slow_receiver_and_retries(
    org, receiver, make_endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(sender, "TOTAL_TIMEOUT", 0.5)
    make_endpoint(org, receiver.url())
    receiver.script(Reply(200, delay=5), Reply(200))

    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)

    delivery = _only_delivery()
    first, second = DeliveryAttempt.objects.filter(delivery=delivery).order_by("number")
    assert first.status_code is None
    assert "timed out" in first.error.lower()
    assert first.duration_ms < 3000
    assert second.status_code == 200
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.requests) == 2


def test_it_gives_up_on_a_receiver_that_trickles_its_answer(
    org, receiver, make_endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    """The total timeout bounds the whole exchange, not each read: one byte every 0.1 s still times out."""
    monkeypatch.setattr(sender, "TOTAL_TIMEOUT", 0.5)
    make_endpoint(org, receiver.url())
    receiver.script(Reply(200, trickle=0.1), Reply(200))

    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)

    delivery = _only_delivery()
    first, second = DeliveryAttempt.objects.filter(delivery=delivery).order_by("number")
    assert first.status_code is None
    assert "timed out" in first.error.lower()
    assert first.duration_ms < 2000
    assert second.status_code == 200
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_it_delivers_to_an_ipv6_loopback_receiver(
    org, make_receiver, make_endpoint, django_capture_on_commit_callbacks
):
    receiver = make_receiver("::1")
    endpoint, secret = make_endpoint(org, receiver.url(), events=["webhook.ping"])

    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=endpoint)

    (request,) = receiver.requests
    assert request.headers["host"] == f"[::1]:{receiver.port}"
    assert request.verify(secret)["type"] == "webhook.ping"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_it_sends_a_redelivered_task_only_once(org, receiver, make_endpoint, django_capture_on_commit_callbacks):
    """acks_late: the broker may hand the same task out twice; the claim lets one send."""
    make_endpoint(org, receiver.url())
    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)
    delivery = _only_delivery()

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.deliver(str(delivery.pk)) == 0

    assert len(receiver.requests) == 1
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1
