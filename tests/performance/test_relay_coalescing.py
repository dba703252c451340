"""Commits queue the event relay, but at most one relay task waits in the queue at a time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core.cache import cache
from kombu.exceptions import OperationalError

from apps.audit.models import Transition
from apps.webhooks import tasks
from apps.webhooks.endpoints import endpoint_create
from apps.webhooks.models import Delivery, DeliveryStatus
from tests.factories import OrganizationFactory, make_identity
from tests.webhooks.conftest import Receiver

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_relay_waiting():
    cache.delete(tasks.RELAY_QUEUED_KEY)
    yield
    cache.delete(tasks.RELAY_QUEUED_KEY)


@pytest.fixture
def delay():
    with mock.patch("apps.webhooks.tasks.relay_events.delay") as patched:
        yield patched


def test_many_requests_queue_one_relay_until_it_starts(delay):
    with time_machine.travel(START, tick=False):
        queued = [tasks.relay_soon() for _ in range(50)]

    assert queued == [True] + [False] * 49
    assert delay.call_count == 1


def test_a_started_relay_lets_the_next_commit_queue_another(db, delay):
    with time_machine.travel(START, tick=False):
        assert tasks.relay_soon() is True
        tasks.relay_events()  # the queued task starts: what commits from now on may be unseen
        assert tasks.relay_soon() is True

    assert delay.call_count == 2


def test_a_lost_relay_task_blocks_the_queuing_for_a_second_at_most(delay):
    with time_machine.travel(START, tick=False) as traveller:
        assert tasks.relay_soon() is True  # and that task never runs
        traveller.shift(timedelta(seconds=0.5))
        assert tasks.relay_soon() is False
        traveller.shift(timedelta(seconds=tasks.RELAY_QUEUED_SECONDS))
        assert tasks.relay_soon() is True


def test_a_broker_outage_leaves_the_next_commit_free_to_try_again(delay):
    delay.side_effect = [OperationalError("[Errno 111] Connection refused"), None]

    assert tasks.relay_soon() is False
    assert tasks.relay_soon() is True
    assert delay.call_count == 2


@pytest.fixture
def receiver():
    started = Receiver()
    yield started
    started.stop()


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_committed_transitions_queues_one_relay_and_each_is_delivered_once(receiver):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    endpoint_create(organization=org, url=receiver.url(), events=["identity.state_changed"])

    with mock.patch("apps.webhooks.tasks.relay_events.delay") as delay:
        identities = [make_identity(org, email=f"person{n}@example.com") for n in range(10)]  # ten commits

    assert delay.call_count == 1
    assert Transition.objects.filter(published_at__isnull=True).count() == len(identities)

    # The one queued relay publishes all of them (here run in-process, as the worker would).
    tasks.relay_events()

    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == len(identities)
    assert sorted(receiver.webhook_ids()) == sorted(set(receiver.webhook_ids()))
    assert len(receiver.webhook_ids()) == len(identities)
