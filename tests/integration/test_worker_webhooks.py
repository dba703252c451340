"""Webhooks through a real Celery worker process on Redis, with beat running the relay.

The acceptance criteria: an integrator registers a webhook, changes an identity's state and
receives a correctly signed event; killing the worker mid-retry and starting it again still
ends in exactly one successful delivery.
"""

from __future__ import annotations

import time

import pytest
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps.identities.services import identity_activate
from apps.webhooks.endpoints import endpoint_create
from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, Event
from tests.factories import make_identity, make_person
from tests.integration.conftest import skip_reason, wait_for

pytestmark = [
    pytest.mark.skipif(bool(skip_reason()), reason=skip_reason()),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("no_delivery_here"),
]

EVENT = "identity.state_changed"


def _register(org, receiver):
    """What an integrator does: register an endpoint and keep the secret shown once."""
    return endpoint_create(organization=org, url=receiver.url(), events=[EVENT], description="integration")


def test_an_integrator_receives_signed_events_for_an_identity_through_the_worker(
    org, receiver, start_worker, no_delivery_here
):
    worker = start_worker()
    endpoint, secret = _register(org, receiver)

    identity = make_identity(org, email="ana@example.com")  # INVITED
    identity_activate(identity=identity, person=make_person(email="ana@example.com"))  # → ACTIVE

    deliveries = wait_for(
        lambda: (
            list(Delivery.objects.filter(endpoint=endpoint).select_related("event"))
            if Delivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.SUCCEEDED).count() == 2
            else None
        ),
        "two succeeded deliveries",
        worker,
    )

    assert not no_delivery_here["deliver"].called, "the test process must not deliver anything itself"
    assert len(receiver.requests) == 2
    by_id = {d.event.message_id: d for d in deliveries}
    states = set()
    for request in receiver.requests:
        payload = Webhook(secret).verify(request.body, request.headers)  # as the integrator verifies it
        delivery = by_id[request.headers["webhook-id"]]
        assert payload["id"] == request.headers["webhook-id"]
        assert payload["type"] == EVENT
        assert payload["data"]["id"] == str(identity.pk)
        states.add((payload["data"]["previous_state"], payload["data"]["state"]))
        assert request.headers["content-type"] == "application/json"
        with pytest.raises(WebhookVerificationError):
            Webhook("whsec_" + "A" * 43 + "=").verify(request.body, request.headers)
        assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == (
            DeliveryStatus.SUCCEEDED,
            1,
            200,
        )
        assert list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code")) == [
            (1, 200)
        ]
    assert states == {(None, "INVITED"), ("INVITED", "ACTIVE")}


def test_killing_the_worker_mid_retry_still_ends_in_exactly_one_successful_delivery(org, receiver, start_worker):
    receiver.script(500, 500)  # then 200 (the receiver's default)
    endpoint, secret = _register(org, receiver)
    first = start_worker()
    identity = make_identity(org)

    # Attempt 1 fails, attempt 2 (immediately after) fails, attempt 3 is a 5 s countdown the worker holds.
    def after_two_failures():
        return Delivery.objects.filter(endpoint=endpoint, attempt_count__gte=2).first()

    delivery = wait_for(after_two_failures, "the second failed attempt", first)
    first.kill()
    killed_at = timezone.now()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count) == (DeliveryStatus.PENDING, 2), "killed too late"
    assert delivery.next_attempt_at > killed_at, "the third attempt should still have been a countdown"
    assert [reply.status for _, reply in receiver.replies] == [500, 500]

    second = start_worker()

    def succeeded():
        delivery.refresh_from_db()
        return delivery.status == DeliveryStatus.SUCCEEDED

    wait_for(succeeded, "the delivery to succeed after the restart", first, second)
    # A few more relay runs (every 2 s, re-queueing after 3 s) must not send it again.
    time.sleep(5)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempt_count, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 3, 200)
    attempts = list(DeliveryAttempt.objects.filter(delivery=delivery).values_list("number", "status_code"))
    assert attempts == [(1, 500), (2, 500), (3, 200)]
    assert sum(1 for _, code in attempts if 200 <= code < 300) == 1

    (event,) = Event.objects.filter(type=EVENT, data__id=str(identity.pk))
    assert Delivery.objects.filter(event=event, endpoint=endpoint).count() == 1
    assert Delivery.objects.count() == 1

    # The receiver saw the same webhook-id every time, and answered 2xx exactly once.
    assert receiver.webhook_ids() == [event.message_id] * 3
    assert [reply.status for _, reply in receiver.replies] == [500, 500, 200]
    ok = [request for request, reply in receiver.replies if 200 <= reply.status < 300]
    assert len(ok) == 1
    payload = Webhook(secret).verify(ok[0].body, ok[0].headers)
    assert (payload["id"], payload["data"]["state"]) == (event.message_id, "INVITED")
