"""Deliveries claimed, sent and recorded in batches: one task per destination, kept-alive connections."""

from __future__ import annotations

import threading
from unittest import mock

import pytest
from django.db import connection, connections

from apps.audit.models import Transition
from apps.webhooks import delivery, queue, sender, store
from apps.webhooks.delivery import deliveries_attempt
from apps.webhooks.destinations import destination_check
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus
from apps.webhooks.relay import events_relay
from tests.factories import make_identity
from tests.webhooks.conftest import Reply

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks (SKIP LOCKED); SQLite locks the whole file"
)


def _pending(endpoint, count: int) -> list[Delivery]:
    """`count` deliveries of pings to `endpoint`, due now, whose tasks never ran."""
    with mock.patch("apps.webhooks.tasks.deliver.apply_async"):
        return [endpoint_ping(endpoint=endpoint) for _ in range(count)]


@pytest.mark.django_db
def test_the_relay_queues_one_task_per_destination_and_batch(
    org, make_receiver, make_endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(queue, "DELIVERY_BATCH_SIZE", 3)
    first, second = make_receiver(), make_receiver()
    make_endpoint(org, first.url())
    make_endpoint(org, second.url())
    with mock.patch("apps.webhooks.tasks.relay_events.delay"):
        for n in range(5):
            make_identity(org, email=f"person{n}@example.com")

    with (
        mock.patch("apps.webhooks.tasks.deliver.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert events_relay() == 5

    urls = dict(Delivery.objects.values_list("pk", "url"))
    batches = [call.kwargs["args"] for call in apply_async.call_args_list]
    assert sorted(len(ids) for ids in batches) == [2, 2, 3, 3]
    assert all(len({urls[store.as_uuid(pk)] for pk in ids}) == 1 for ids in batches)
    assert sorted(pk for ids in batches for pk in ids) == sorted(str(pk) for pk in urls)
    assert all(call.kwargs["countdown"] is None for call in apply_async.call_args_list)
    assert first.requests == second.requests == []


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one-statement claim and result are PostgreSQL's")
def test_a_batch_takes_three_statements_whatever_its_size(org, make_receiver, make_endpoint, django_assert_num_queries):
    receiver = make_receiver(keep_alive=True)
    endpoint, secret = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    deliveries = _pending(endpoint, 20)

    # The claim, the deliveries with their events and endpoints, the attempts with the new states.
    with django_assert_num_queries(3):
        statuses = deliveries_attempt(delivery_ids=[str(d.pk) for d in deliveries])

    assert statuses == {d.pk: DeliveryStatus.SUCCEEDED for d in deliveries}
    assert receiver.webhook_ids() == [f"msg_{d.event_id.hex}" for d in deliveries]  # in the order given
    for request in receiver.requests:
        request.verify(secret)
    assert set(Delivery.objects.values_list("status", "attempt_count", "claimed_at")) == {("succeeded", 1, None)}
    assert DeliveryAttempt.objects.filter(number=1, status_code=200).count() == 20


@pytest.mark.django_db
def test_a_batch_sends_over_one_kept_alive_connection_checked_once(org, make_receiver, make_endpoint):
    receiver = make_receiver(keep_alive=True)
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    deliveries = _pending(endpoint, 5)

    with mock.patch("apps.webhooks.delivery.destination_check", side_effect=destination_check) as check:
        deliveries_attempt(delivery_ids=[d.pk for d in deliveries[:3]])
        deliveries_attempt(delivery_ids=[d.pk for d in deliveries[3:]])

    assert len(receiver.requests) == 5
    assert receiver.connections() == 1  # the second batch reused the first one's connection
    assert check.call_count == 2  # resolved and checked once per batch, not per send
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 5


@pytest.mark.django_db
def test_a_connection_is_not_reused_when_the_answer_was_not_read_to_its_end(org, make_receiver, make_endpoint):
    receiver = make_receiver(keep_alive=True)
    receiver.default = Reply(200, b"x" * (sender.EXCERPT_BYTES + 100))
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    deliveries = _pending(endpoint, 3)

    deliveries_attempt(delivery_ids=[d.pk for d in deliveries])

    assert receiver.connections() == 3
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 3
    assert {len(excerpt) for excerpt in Delivery.objects.values_list("last_response_excerpt", flat=True)} == {
        sender.EXCERPT_BYTES
    }


@pytest.mark.django_db
def test_a_kept_alive_connection_still_gives_up_at_the_send_deadline(
    org, make_receiver, make_endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    """The deadline is armed per send, not per connection: the second send on it is cut off too."""
    monkeypatch.setattr(sender, "TOTAL_TIMEOUT", 0.5)
    receiver = make_receiver(keep_alive=True)
    receiver.script(Reply(200), Reply(200, trickle=0.1))
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    first, second = _pending(endpoint, 2)

    with (
        mock.patch("apps.webhooks.tasks.deliver.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert deliveries_attempt(delivery_ids=[first.pk, second.pk]) == {
            first.pk: DeliveryStatus.SUCCEEDED,
            second.pk: DeliveryStatus.PENDING,
        }

    attempt = DeliveryAttempt.objects.get(delivery=second)
    assert attempt.status_code is None
    assert "timed out" in attempt.error.lower()
    assert attempt.duration_ms < 2000
    assert receiver.connections() == 1
    assert [call.kwargs["args"] for call in apply_async.call_args_list] == [[str(second.pk)]]  # retried at once


@pytest.mark.django_db
def test_a_refused_destination_ends_every_delivery_of_the_batch_unsent(org, make_receiver, make_endpoint, settings):
    receiver = make_receiver()
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    deliveries = _pending(endpoint, 3)
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False  # 127.0.0.1 is refused from now on

    statuses = deliveries_attempt(delivery_ids=[d.pk for d in deliveries])

    assert set(statuses.values()) == {DeliveryStatus.DEAD}
    assert receiver.requests == []
    assert all(error.startswith("Refused:") for error in DeliveryAttempt.objects.values_list("error", flat=True))


@pytest.mark.django_db
def test_a_batch_starts_no_send_past_its_time_and_queues_the_rest_again(
    org, make_receiver, make_endpoint, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(delivery, "BATCH_SEND_SECONDS", 0)
    receiver = make_receiver()
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    deliveries = _pending(endpoint, 3)

    with (
        mock.patch("apps.webhooks.tasks.deliver.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
    ):
        statuses = deliveries_attempt(delivery_ids=[d.pk for d in deliveries])

    assert statuses == {deliveries[0].pk: DeliveryStatus.SUCCEEDED}  # a batch always makes its first send
    assert len(receiver.requests) == 1
    rest = Delivery.objects.filter(pk__in=[d.pk for d in deliveries[1:]])
    assert {(d.status, d.claimed_at, d.attempt_count) for d in rest} == {(DeliveryStatus.PENDING, None, 0)}
    assert all(d.enqueued_at is not None for d in rest)
    assert [call.kwargs["args"] for call in apply_async.call_args_list] == [[str(d.pk) for d in deliveries[1:]]]


@pytest.mark.django_db
def test_a_batch_leaves_deliveries_that_are_not_due_or_not_pending(org, make_receiver, make_endpoint):
    receiver = make_receiver()
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    due, claimed, later = _pending(endpoint, 3)
    Delivery.objects.filter(pk=claimed.pk).update(status=DeliveryStatus.SENDING, claimed_at=claimed.created_at)
    Delivery.objects.filter(pk=later.pk).update(next_attempt_at=later.created_at.replace(year=2100))

    assert deliveries_attempt(delivery_ids=[due.pk, claimed.pk, later.pk]) == {due.pk: DeliveryStatus.SUCCEEDED}
    assert receiver.webhook_ids() == [f"msg_{due.event_id.hex}"]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_workers_handed_the_same_deliveries_send_each_once(org, make_receiver, make_endpoint):
    receiver = make_receiver(keep_alive=True)
    receiver.default = Reply(200, delay=0.01)  # keep the first claim's batch busy while the other runs
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    ids = [d.pk for d in _pending(endpoint, 30)]
    start = threading.Barrier(2)
    sent: list[int] = []
    errors: list[BaseException] = []

    def worker(order: list) -> None:
        try:
            start.wait(timeout=10)
            total = 0
            for at in range(0, len(order), 5):  # as redelivered copies of several tasks would
                total += len(deliveries_attempt(delivery_ids=order[at : at + 5]))
            sent.append(total)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(ids,)), threading.Thread(target=worker, args=(ids[::-1],))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(sent) == 30
    assert len(receiver.requests) == 30
    assert len(set(receiver.webhook_ids())) == 30
    assert set(Delivery.objects.values_list("status", "attempt_count")) == {("succeeded", 1)}
    assert DeliveryAttempt.objects.count() == 30
    assert not Transition.objects.exists()  # pings: no transitions were involved


@pytest.mark.django_db
def test_an_unexpected_error_mid_batch_keeps_what_was_sent_and_releases_the_rest(
    org, make_receiver, make_endpoint, django_capture_on_commit_callbacks
):
    receiver = make_receiver()
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    sent, broken, rest = _pending(endpoint, 3)
    calls: list[int] = []
    sign_headers = delivery.sign_headers

    def sign_once(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("signing broke")
        return sign_headers(**kwargs)

    with (
        mock.patch("apps.webhooks.delivery.sign_headers", side_effect=sign_once),
        mock.patch("apps.webhooks.tasks.deliver.apply_async") as apply_async,
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
    ):
        deliveries_attempt(delivery_ids=[sent.pk, broken.pk, rest.pk])

    states = dict(Delivery.objects.values_list("pk", "status"))
    # Sent and recorded (not sent again); left claimed for the relay to reset; back in the queue.
    assert states == {sent.pk: "succeeded", broken.pk: "sending", rest.pk: "pending"}
    assert receiver.webhook_ids() == [f"msg_{sent.event_id.hex}"]
    assert [call.kwargs["args"] for call in apply_async.call_args_list] == [[str(rest.pk)]]
