"""Per-object notifications (a process's notificationUrl, a session's callback) use the webhook sender."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from django.db import transaction
from django.utils import timezone

from apps.webhooks.models import Delivery, DeliveryStatus
from apps.webhooks.relay import delivery_redeliver, notification_send


def _send(org, url, body):
    with transaction.atomic():
        return notification_send(organization_id=org.pk, url=url, event_type="process.status_changed", body=body)


def test_it_posts_the_bare_body_signed_with_the_notification_secret(
    api, org, receiver, django_capture_on_commit_callbacks
):
    secret = api.post("/api/v1/orgs/acme/notification-secret/rotate").json()["secret"]
    assert secret.startswith("whsec_")

    with django_capture_on_commit_callbacks(execute=True):
        delivery = _send(org, receiver.url("/notify"), {"processId": "p-1", "status": "accepted"})

    [request] = receiver.requests
    assert request.path == "/notify"
    assert request.json == {"processId": "p-1", "status": "accepted"}
    request.verify(secret)
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.endpoint is None


def test_it_retries_a_notification_like_a_webhook(org, receiver, django_capture_on_commit_callbacks):
    receiver.script(503, 200)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _send(org, receiver.url(), {"processId": "p-2", "status": "rejected"})

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert [a.status_code for a in delivery.attempts.all()] == [503, 200]
    assert len(set(receiver.webhook_ids())) == 1


def test_it_signs_with_both_secrets_during_a_rotation(api, org, receiver, django_capture_on_commit_callbacks):
    old = api.post("/api/v1/orgs/acme/notification-secret/rotate").json()["secret"]
    new = api.post("/api/v1/orgs/acme/notification-secret/rotate").json()["secret"]
    assert old != new

    with django_capture_on_commit_callbacks(execute=True):
        _send(org, receiver.url(), {"processId": "p-3", "status": "accepted"})
    request = receiver.requests[-1]
    assert len(request.headers["webhook-signature"].split()) == 2
    request.verify(old)
    request.verify(new)

    with time_machine.travel(timezone.now() + timedelta(hours=25)):
        with django_capture_on_commit_callbacks(execute=True):
            _send(org, receiver.url(), {"processId": "p-4", "status": "accepted"})
        assert len(receiver.requests[-1].headers["webhook-signature"].split()) == 1
        receiver.requests[-1].verify(new)


def test_it_redelivers_a_notification_to_the_same_url(org, receiver, django_capture_on_commit_callbacks):
    receiver.script(404)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _send(org, receiver.url("/n"), {"processId": "p-5", "status": "failed"})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD

    with django_capture_on_commit_callbacks(execute=True):
        again = delivery_redeliver(delivery=delivery)
    again = Delivery.objects.get(pk=again.pk)
    assert again.url == delivery.url
    assert again.status == DeliveryStatus.SUCCEEDED
    assert receiver.webhook_ids()[0] == receiver.webhook_ids()[1]


def test_it_needs_the_webhooks_scope_and_the_own_organization(org, other_org, make_client):
    from tests.factories import make_api_key

    assert (
        make_client(make_api_key(org, ["identities"])).post("/api/v1/orgs/acme/notification-secret/rotate").status_code
        == 403
    )
    assert make_client(make_api_key(other_org)).post("/api/v1/orgs/acme/notification-secret/rotate").status_code == 404
    assert make_client(None).post("/api/v1/orgs/acme/notification-secret/rotate").status_code == 401
