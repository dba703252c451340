"""A queue running behind the requeue window: the relay's re-queues of pending deliveries back off."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.test import override_settings

from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, DeliveryStatus
from apps.webhooks.relay import REQUEUE_BACKOFF_STEPS, deliveries_dispatch_due

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
WINDOW = 3


@pytest.fixture
def queued(org, make_endpoint, receiver, django_capture_on_commit_callbacks):
    """A delivery whose task was queued at START and is still waiting in a long queue."""
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    with (
        time_machine.travel(START, tick=False),
        mock.patch("apps.webhooks.tasks.deliver.apply_async"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        delivery = endpoint_ping(endpoint=endpoint)
    return delivery


@pytest.fixture
def dispatch_at(django_capture_on_commit_callbacks):
    def dispatch(seconds: float) -> list[str]:
        """Run the relay's dispatch at START + seconds; the ids it queued."""
        with (
            time_machine.travel(START + timedelta(seconds=seconds), tick=False),
            mock.patch("apps.webhooks.tasks.deliver.apply_async") as apply_async,
            override_settings(WEBHOOKS_REQUEUE_AFTER_SECONDS=WINDOW),
            django_capture_on_commit_callbacks(execute=True),
        ):
            deliveries_dispatch_due()
        return [call.kwargs["args"][0] for call in apply_async.call_args_list]

    return dispatch


def test_each_requeue_doubles_the_wait_before_the_next(queued, dispatch_at):
    queued_at = [second for second in range(0, 200) if dispatch_at(second)]

    # Once more than 3, 6, 12, 24, 48 s, then 96 s (at most) have passed since the last queuing.
    assert queued_at == [4, 11, 24, 49, 98, 195]
    queued.refresh_from_db()
    assert queued.requeues == REQUEUE_BACKOFF_STEPS + 1
    assert queued.enqueued_at == START + timedelta(seconds=195)


def test_a_backlog_holds_a_few_copies_of_each_delivery_not_one_per_window(queued, dispatch_at):
    # Every relay run (one a second) over 10 minutes of a queue that never reaches the task.
    copies = sum(len(dispatch_at(second)) for second in range(0, 600))

    assert copies <= 10  # without the backoff: 600 / 3 = 200


def test_a_claim_starts_the_backoff_over(queued, receiver, dispatch_at):
    assert dispatch_at(WINDOW + 1) == [str(queued.pk)]
    receiver.script(500)
    with (
        time_machine.travel(START + timedelta(seconds=WINDOW + 2), tick=False),
        mock.patch("apps.webhooks.tasks.deliver.apply_async"),
    ):
        assert delivery_attempt(delivery_id=queued.pk) == DeliveryStatus.PENDING  # retried in 5 s

    queued.refresh_from_db()
    assert (queued.requeues, queued.attempt_count) == (0, 1)
    retry_queued = queued.enqueued_at
    # The retry's own task is due at enqueued_at; the relay waits one window past that.
    assert dispatch_at((retry_queued - START).total_seconds() + WINDOW - 1) == []
    assert dispatch_at((retry_queued - START).total_seconds() + WINDOW + 1) == [str(queued.pk)]


def test_a_delivery_without_a_task_is_queued_at_once_and_starts_over(queued, dispatch_at):
    Delivery.objects.filter(pk=queued.pk).update(enqueued_at=None, requeues=4)

    assert dispatch_at(1) == [str(queued.pk)]
    queued.refresh_from_db()
    assert (queued.requeues, queued.enqueued_at) == (0, START + timedelta(seconds=1))


def test_a_reset_claim_of_a_dead_worker_starts_over(queued, dispatch_at):
    claimed_at = START + timedelta(seconds=1)
    Delivery.objects.filter(pk=queued.pk).update(status=DeliveryStatus.SENDING, claimed_at=claimed_at, requeues=3)

    later = 1 + 60  # past the claim minimum (the sender's deadline and a margin)
    assert dispatch_at(later) == [str(queued.pk)]
    queued.refresh_from_db()
    assert (queued.status, queued.requeues) == (DeliveryStatus.PENDING, 0)


def test_the_backoff_never_delays_a_delivery_past_its_due_time(queued, dispatch_at):
    """next_attempt_at still decides when a delivery is due; the backoff only spaces its copies."""
    Delivery.objects.filter(pk=queued.pk).update(
        next_attempt_at=START + timedelta(seconds=100), enqueued_at=None, requeues=0
    )

    assert dispatch_at(99) == []
    assert dispatch_at(100) == [str(queued.pk)]
