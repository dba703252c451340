"""A delivery attempt's database work and its sender's deadline, kept cheap per delivery."""

from __future__ import annotations

import threading
import time
from unittest import mock

import pytest
from django.db import connection

from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from apps.webhooks.sender import _Watchdog

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(org, make_endpoint, receiver, django_capture_on_commit_callbacks):
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    with mock.patch("apps.webhooks.tasks.deliver.apply_async"), django_capture_on_commit_callbacks(execute=True):
        return endpoint_ping(endpoint=endpoint)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement result write is PostgreSQL's")
def test_an_attempt_takes_three_statements_on_postgresql(pending, receiver, django_assert_num_queries):
    # The claim, the delivery with its event and endpoint, then the attempt and the new state together.
    with django_assert_num_queries(3):
        assert delivery_attempt(delivery_id=pending.pk) == DeliveryStatus.SUCCEEDED

    pending.refresh_from_db()
    (attempt,) = DeliveryAttempt.objects.filter(delivery=pending)
    assert (pending.status, pending.attempt_count, pending.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert pending.succeeded_at is not None and pending.claimed_at is None and pending.next_attempt_at is None
    assert (attempt.number, attempt.status_code, attempt.error) == (1, 200, "")
    assert len(receiver.requests) == 1


def test_a_retry_records_the_attempt_and_the_next_time(pending, receiver, django_capture_on_commit_callbacks):
    receiver.script(503, 503)
    with (
        mock.patch("apps.webhooks.tasks.deliver.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert delivery_attempt(delivery_id=pending.pk) == DeliveryStatus.PENDING  # again at once
        assert delivery_attempt(delivery_id=pending.pk) == DeliveryStatus.PENDING  # in 5 s

    pending.refresh_from_db()
    assert [(a.number, a.status_code) for a in pending.attempts.all()] == [(1, 503), (2, 503)]
    assert (pending.status, pending.attempt_count, pending.last_status_code) == (DeliveryStatus.PENDING, 2, 503)
    assert pending.next_attempt_at == pending.enqueued_at  # the retry's task is queued for then
    assert [c.kwargs["countdown"] for c in apply_async.call_args_list] == [None, 5.0]


def test_a_worker_that_lost_its_claim_records_its_attempt_but_leaves_the_delivery(pending, receiver):
    """As before: the attempt row is written, the delivery belongs to whoever holds it now."""
    original = Delivery.objects.select_related

    def claim_lost(*args, **kwargs):
        # The relay reset this claim (worker presumed dead) while the send was under way.
        Delivery.objects.filter(pk=pending.pk).update(status=DeliveryStatus.PENDING, claimed_at=None)
        return original(*args, **kwargs)

    with mock.patch.object(Delivery.objects, "select_related", side_effect=claim_lost):
        delivery_attempt(delivery_id=pending.pk)

    pending.refresh_from_db()
    assert (pending.status, pending.attempt_count) == (DeliveryStatus.PENDING, 0)
    assert pending.attempts.count() == 1


def test_the_watchdog_calls_back_at_the_deadline_and_not_when_cancelled():
    watchdog = _Watchdog()
    fired: list[str] = []
    done = threading.Event()

    def record(name: str):
        def callback() -> None:
            fired.append(name)
            done.set()

        return callback

    now = time.monotonic()
    cancelled = watchdog.schedule(now + 0.05, record("cancelled"))
    watchdog.schedule(now + 0.15, record("late"))
    watchdog.schedule(now + 0.1, record("early"))
    watchdog.cancel(cancelled)

    deadline = time.monotonic() + 5
    while len(fired) < 2 and time.monotonic() < deadline:
        done.wait(0.05)
    assert fired == ["early", "late"]
    assert time.monotonic() - now >= 0.15


def test_the_watchdog_uses_one_thread_for_many_connections():
    watchdog = _Watchdog()
    before = threading.active_count()
    tokens = [watchdog.schedule(time.monotonic() + 10, lambda: None) for _ in range(50)]
    assert threading.active_count() == before + 1
    for token in tokens:
        watchdog.cancel(token)
