"""The audit log as an outbox: every committed transition ends in exactly one delivery per endpoint."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.db import connection, connections
from kombu.exceptions import OperationalError

from apps.audit.models import Transition
from apps.identities.services import identity_activate
from apps.webhooks import tasks
from apps.webhooks.delivery import delivery_attempt
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.events import event_data
from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Event
from apps.webhooks.relay import deliveries_dispatch_due, events_relay
from tests.factories import OrganizationFactory, make_identity, make_person

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL row locks (SKIP LOCKED); SQLite locks the whole file"
)
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _broker_down(*args, **kwargs):
    raise OperationalError("[Errno 111] Connection refused")


@pytest.fixture
def no_relay_on_commit():
    """Transitions commit, but only an explicit relay run publishes them (as when beat is the only relay)."""
    with mock.patch("apps.webhooks.tasks.relay_events.delay"):
        yield


def _delivered_pairs() -> list[tuple[str, str]]:
    return list(Delivery.objects.values_list("event__transition_id", "endpoint_id"))


@pytest.mark.django_db(transaction=True)
def test_it_delivers_once_when_the_relay_runs_after_a_broker_outage(org, receiver, make_endpoint):
    _, secret = make_endpoint(org, receiver.url())
    with (
        mock.patch("apps.webhooks.tasks.relay_events.delay", side_effect=_broker_down) as relay,
        mock.patch("apps.webhooks.tasks.deliver.apply_async", side_effect=_broker_down),
    ):
        identity = make_identity(org)  # commits for real; queuing the relay fails after the commit

    assert relay.called
    assert Transition.objects.filter(object_id=str(identity.pk), published_at__isnull=True).count() == 1
    assert not Event.objects.exists()
    assert receiver.requests == []

    # The broker is back; beat's relay runs (twice, as it may).
    tasks.relay_events()
    tasks.relay_events()

    (request,) = receiver.requests
    assert request.verify(secret)["data"]["state"] == "INVITED"
    (delivery,) = Delivery.objects.all()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.SUCCEEDED, 1)
    assert Transition.objects.get(object_id=str(identity.pk)).published_at is not None


@pytest.mark.django_db(transaction=True)
def test_it_delivers_once_when_the_broker_was_down_for_the_delivery_task(org, receiver, make_endpoint):
    make_endpoint(org, receiver.url())
    with time_machine.travel(START, tick=False) as traveller:
        with mock.patch("apps.webhooks.tasks.deliver.apply_async", side_effect=_broker_down):
            make_identity(org)  # the relay runs and publishes, but the delivery task is lost

        (delivery,) = Delivery.objects.all()
        assert delivery.status == DeliveryStatus.PENDING
        assert receiver.requests == []

        # The task might still be in flight for a while: the relay leaves it alone...
        tasks.relay_events()
        assert receiver.requests == []

        # ...then treats it as lost and queues it again.
        traveller.shift(timedelta(seconds=61))
        tasks.relay_events()
        tasks.relay_events()

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.SUCCEEDED, 1)


@pytest.mark.django_db(transaction=True)
def test_it_accepts_a_ping_while_the_broker_is_down_and_sends_it_later(api, receiver):
    webhook_id = api.post(
        "/api/v1/orgs/acme/webhooks", {"url": receiver.url(), "events": ["webhook.ping"]}, format="json"
    ).json()["id"]
    with time_machine.travel(START, tick=False) as traveller:
        with mock.patch("apps.webhooks.tasks.deliver.apply_async", side_effect=_broker_down):
            response = api.post(f"/api/v1/orgs/acme/webhooks/{webhook_id}/ping")

        assert response.status_code == 202
        assert response.json()["status"] == "pending"
        assert receiver.requests == []

        traveller.shift(timedelta(seconds=61))
        tasks.relay_events()

    (request,) = receiver.requests
    assert request.headers["webhook-id"] == response.json()["event_id"]


@pytest.mark.django_db
def test_it_publishes_each_transition_once_however_often_the_relay_runs(
    org, receiver, make_endpoint, no_relay_on_commit, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(org, receiver.url())
    identity = make_identity(org)
    identity_activate(identity=identity, person=make_person(email="ana@example.com"))
    transitions = list(Transition.objects.values_list("id", flat=True))
    assert len(transitions) == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert events_relay() == 2
        assert events_relay() == 0
        tasks.relay_events()

    assert sorted(Event.objects.values_list("transition_id", flat=True)) == sorted(transitions)
    assert sorted(_delivered_pairs()) == sorted((t, endpoint.pk) for t in transitions)
    assert len(receiver.requests) == 2
    assert len(set(receiver.webhook_ids())) == 2
    assert Transition.objects.filter(published_at__isnull=True).count() == 0


@pytest.mark.django_db
def test_it_publishes_in_batches(org, make_endpoint, receiver, no_relay_on_commit):
    make_endpoint(org, receiver.url())
    for n in range(5):
        make_identity(org, email=f"person{n}@example.com")

    assert events_relay(batch_size=2) == 2
    assert events_relay(batch_size=2) == 2
    assert events_relay(batch_size=2) == 1
    assert events_relay(batch_size=2) == 0
    assert Event.objects.count() == Delivery.objects.count() == 5


@pytest.mark.django_db
def test_it_delivers_once_to_each_subscribed_endpoint(
    org, make_receiver, make_endpoint, django_capture_on_commit_callbacks
):
    first, second = make_receiver(), make_receiver()
    _, first_secret = make_endpoint(org, first.url())
    _, second_secret = make_endpoint(org, second.url(), events=["webhook.ping", "identity.state_changed"])

    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)
    with django_capture_on_commit_callbacks(execute=True):
        tasks.relay_events()

    (a,) = first.requests
    (b,) = second.requests
    assert a.headers["webhook-id"] == b.headers["webhook-id"]
    assert a.verify(first_secret) == b.verify(second_secret)
    assert Delivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2


@pytest.mark.django_db
def test_it_sends_nothing_to_endpoints_not_subscribed_or_of_other_organizations(
    org, make_receiver, make_endpoint, django_capture_on_commit_callbacks
):
    subscribed, unsubscribed, elsewhere = make_receiver(), make_receiver(), make_receiver()
    make_endpoint(org, subscribed.url())
    make_endpoint(org, unsubscribed.url(), events=["activity.status_changed", "webhook.ping"])
    make_endpoint(OrganizationFactory(slug="globex"), elsewhere.url())

    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)

    assert len(subscribed.requests) == 1
    assert unsubscribed.requests == []
    assert elsewhere.requests == []
    assert Delivery.objects.count() == 1


@pytest.mark.django_db
def test_it_publishes_transitions_even_without_endpoints(org, no_relay_on_commit):
    make_identity(org)

    assert events_relay() == 1
    assert Event.objects.get().type == "identity.state_changed"
    assert not Delivery.objects.exists()
    assert events_relay() == 0


@pytest.mark.django_db
def test_it_resends_what_a_dead_worker_left_in_sending(
    org, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    with time_machine.travel(START, tick=False) as traveller:
        delivery = endpoint_ping(endpoint=endpoint)  # its task never runs: the on-commit is not executed
        # A worker claimed it and died before recording the attempt.
        Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=START)

        traveller.shift(timedelta(seconds=30))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_dispatch_due() == 0  # a live worker may still be sending
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SENDING

        traveller.shift(timedelta(seconds=31))
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_dispatch_due() == 1
        with django_capture_on_commit_callbacks(execute=True):
            assert deliveries_dispatch_due() == 0

        (request,) = receiver.requests
        assert request.verify(secret)["type"] == "webhook.ping"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.SUCCEEDED, 1)
    assert DeliveryAttempt.objects.filter(delivery=delivery).count() == 1


@pytest.mark.django_db
def test_it_does_not_send_a_delivery_another_worker_claimed(org, receiver, make_endpoint):
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    delivery = endpoint_ping(endpoint=endpoint)
    Delivery.objects.filter(pk=delivery.pk).update(status=DeliveryStatus.SENDING, claimed_at=datetime.now(tz=UTC))

    assert delivery_attempt(delivery_id=delivery.pk) is None

    assert receiver.requests == []
    assert not DeliveryAttempt.objects.exists()
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.SENDING, 0)


@pytest.mark.django_db
def test_it_does_not_send_a_succeeded_delivery_again(org, receiver, make_endpoint, django_capture_on_commit_callbacks):
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=endpoint)

    assert delivery_attempt(delivery_id=delivery.pk) is None
    with (
        time_machine.travel(datetime.now(tz=UTC) + timedelta(hours=1)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert deliveries_dispatch_due() == 0
    assert len(receiver.requests) == 1


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_it_publishes_each_transition_once_with_two_relays_at_once(org, receiver, make_endpoint, no_relay_on_commit):
    make_endpoint(org, receiver.url())
    for n in range(30):
        make_identity(org, email=f"person{n}@example.com")
    start = threading.Barrier(2)
    published: list[int] = []
    errors: list[BaseException] = []

    def slow_event_data(transition):
        time.sleep(0.01)  # hold the batch's row locks long enough for the relays to overlap
        return event_data(transition)

    def relay() -> None:
        try:
            start.wait(timeout=10)
            total = 0
            while count := events_relay(batch_size=3):
                total += count
            published.append(total)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=relay) for _ in range(2)]
    with mock.patch("apps.webhooks.relay.event_data", side_effect=slow_event_data):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert errors == []
    assert sum(published) == 30
    assert all(published), "one relay did all the work: they never ran at once"
    assert Event.objects.count() == 30
    assert Event.objects.values("transition_id").distinct().count() == 30
    assert Delivery.objects.count() == 30
    assert len(receiver.requests) == 30
    assert len(set(receiver.webhook_ids())) == 30
