"""The delivery store: the PostgreSQL statements and the ORM's keep the same promises.

Both stores run here against the test database (the ORM one works on any database), so the one
a deployment picks is held to the same claim, record and release rules as the other.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from apps.webhooks.store import STORE, AttemptRecord, OrmDeliveryStore, PostgresDeliveryStore, store_for

pytestmark = pytest.mark.django_db

STORES = [
    pytest.param(OrmDeliveryStore(), id="orm"),
    pytest.param(
        PostgresDeliveryStore(),
        id="postgresql",
        marks=pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statements"),
    ),
]


def test_the_store_is_chosen_once_by_the_database_vendor():
    assert isinstance(store_for("postgresql"), PostgresDeliveryStore)
    assert type(store_for("sqlite")) is OrmDeliveryStore
    assert type(STORE) is type(store_for(connection.vendor))


@pytest.fixture
def deliveries(org, make_endpoint, receiver, django_capture_on_commit_callbacks):
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    with mock.patch("apps.webhooks.tasks.deliver.apply_async"), django_capture_on_commit_callbacks(execute=True):
        return [endpoint_ping(endpoint=endpoint) for _ in range(3)]


def _record(delivery: Delivery, status: DeliveryStatus, **fields) -> AttemptRecord:
    now = timezone.now()
    attempt = DeliveryAttempt(delivery_id=delivery.pk, number=delivery.attempt_count + 1, status_code=200)
    return AttemptRecord(
        delivery.pk,
        attempt,
        {
            "status": status,
            "attempt_count": delivery.attempt_count + 1,
            "last_status_code": 200,
            "last_error": "",
            "last_response_excerpt": "ok",
            "updated_at": now,
            "next_attempt_at": None,
            **fields,
        },
    )


@pytest.mark.parametrize("store", STORES)
def test_a_claim_takes_only_due_pending_deliveries_once(store, deliveries):
    first, second, third = deliveries
    now = timezone.now()
    Delivery.objects.filter(pk=second.pk).update(next_attempt_at=now + timedelta(minutes=5))
    Delivery.objects.filter(pk=third.pk).update(status=DeliveryStatus.SUCCEEDED)

    assert store.claim([first.pk, second.pk, third.pk], now) == [first.pk]
    assert store.claim([first.pk], now) == []  # a second worker handed the same one sends nothing

    first.refresh_from_db()
    assert (first.status, first.claimed_at, first.requeues) == (DeliveryStatus.SENDING, now, 0)
    assert [d.pk for d in store.load([first.pk])] == [first.pk]


@pytest.mark.parametrize("store", STORES)
def test_results_are_recorded_where_the_claim_is_still_held(store, deliveries):
    first, second, _ = deliveries
    claimed_at = timezone.now()
    assert sorted(store.claim([first.pk, second.pk], claimed_at)) == sorted([first.pk, second.pk])
    # second's claim was reset meanwhile (its worker presumed dead) and taken by another worker
    other_claim = claimed_at + timedelta(minutes=1)
    Delivery.objects.filter(pk=second.pk).update(claimed_at=other_claim)

    retry_at = claimed_at + timedelta(seconds=5)
    store.results_save(
        [
            _record(first, DeliveryStatus.PENDING, next_attempt_at=retry_at, enqueued_at=retry_at),
            _record(second, DeliveryStatus.SUCCEEDED, succeeded_at=claimed_at),
        ],
        claimed_at=claimed_at,
    )

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.attempt_count, first.claimed_at) == (DeliveryStatus.PENDING, 1, None)
    assert (first.next_attempt_at, first.enqueued_at, first.last_response_excerpt) == (retry_at, retry_at, "ok")
    assert (second.status, second.claimed_at, second.attempt_count) == (DeliveryStatus.SENDING, other_claim, 0)
    assert sorted(DeliveryAttempt.objects.values_list("delivery_id", "number")) == sorted(
        [(first.pk, 1), (second.pk, 1)]
    )

    # The same attempt recorded again (a second worker's copy) adds no row.
    store.results_save([_record(second, DeliveryStatus.SUCCEEDED)], claimed_at=other_claim)
    assert DeliveryAttempt.objects.filter(delivery=second).count() == 1
    second.refresh_from_db()
    assert second.status == DeliveryStatus.SUCCEEDED and second.claimed_at is None


@pytest.mark.parametrize("store", STORES)
def test_a_final_state_keeps_when_the_delivery_was_last_queued(store, deliveries):
    first = deliveries[0]
    queued = first.enqueued_at
    claimed_at = timezone.now()
    store.claim([first.pk], claimed_at)
    store.results_save([_record(first, DeliveryStatus.DEAD)], claimed_at=claimed_at)

    first.refresh_from_db()
    assert (first.status, first.enqueued_at, first.succeeded_at) == (DeliveryStatus.DEAD, queued, None)


@pytest.mark.parametrize("store", STORES)
def test_release_hands_back_only_claims_still_held(store, deliveries):
    first, second, _ = deliveries
    claimed_at = timezone.now()
    store.claim([first.pk, second.pk], claimed_at)
    Delivery.objects.filter(pk=second.pk).update(claimed_at=claimed_at + timedelta(minutes=1))
    later = claimed_at + timedelta(seconds=20)

    store.release([first.pk, second.pk], claimed_at=claimed_at, now=later)

    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.claimed_at, first.enqueued_at) == (DeliveryStatus.PENDING, None, later)
    assert second.status == DeliveryStatus.SENDING
