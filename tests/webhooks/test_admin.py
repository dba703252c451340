"""The back office for webhooks: deliveries with their attempts, and redelivery by an operator."""

from __future__ import annotations

import pytest

from apps.people.models import User
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, DeliveryStatus, Event
from tests.factories import make_identity, staff_login
from tests.webhooks.conftest import Reply

pytestmark = pytest.mark.django_db

DELIVERIES = "/admin/webhooks/delivery/"


@pytest.fixture
def staff(client):
    staff_login(client, User.objects.create_superuser("admin@example.com", "admin-pass-123"))
    return client


@pytest.fixture
def delivery(org, receiver, make_endpoint, django_capture_on_commit_callbacks) -> Delivery:
    """A ping answered 503 then 200: two attempts."""
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    receiver.script(Reply(503, b"maintenance window"), Reply(200, b"received, thanks"))
    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=endpoint)
    delivery.refresh_from_db()
    assert delivery.attempt_count == 2
    return delivery


def test_it_lists_deliveries(staff, delivery, receiver):
    response = staff.get(DELIVERIES)

    assert response.status_code == 200
    content = response.content.decode()
    assert receiver.url() in content
    assert "Succeeded" in content
    assert f"{delivery.pk}/change/" in content


def test_it_filters_deliveries_by_status(staff, delivery):
    assert f"{delivery.pk}/change/" in staff.get(DELIVERIES, {"status__exact": "succeeded"}).content.decode()
    assert f"{delivery.pk}/change/" not in staff.get(DELIVERIES, {"status__exact": "dead"}).content.decode()


def test_it_shows_a_delivery_with_its_attempts(staff, delivery):
    response = staff.get(f"{DELIVERIES}{delivery.pk}/change/")

    assert response.status_code == 200
    content = response.content.decode()
    assert "maintenance window" in content
    assert "received, thanks" in content
    assert "503" in content and "200" in content
    assert delivery.event.message_id in content or str(delivery.event_id) in content


def test_it_shows_the_error_of_a_network_failure(
    staff, org, closed_url, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(org, closed_url, events=["webhook.ping"])
    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=endpoint)

    content = staff.get(f"{DELIVERIES}{delivery.pk}/change/").content.decode()

    assert "refused" in content.lower()


def test_it_redelivers_with_the_action(staff, delivery, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(DELIVERIES, {"action": "redeliver", "_selected_action": [str(delivery.pk)]}, follow=True)

    assert response.status_code == 200
    assert "Queued 1" in response.content.decode()
    again = Delivery.objects.get(redelivery_of=delivery)
    assert again.event_id == delivery.event_id
    assert again.status == DeliveryStatus.SUCCEEDED
    assert len(receiver.requests) == 3
    assert len(set(receiver.webhook_ids())) == 1


def test_it_does_not_let_staff_edit_a_delivery(staff, delivery):
    staff.post(f"{DELIVERIES}{delivery.pk}/change/", {"status": "pending", "url": "http://127.0.0.1:9/x"})

    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert delivery.url.endswith("/hook")
    assert staff.get(f"{DELIVERIES}add/").status_code == 403
    assert staff.post(f"{DELIVERIES}{delivery.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Delivery.objects.filter(pk=delivery.pk).exists()


def test_it_never_shows_an_endpoints_secret(staff, org, receiver, make_endpoint):
    endpoint, secret = make_endpoint(org, receiver.url())

    listing = staff.get("/admin/webhooks/webhookendpoint/")
    page = staff.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/")

    assert listing.status_code == page.status_code == 200
    assert receiver.url() in listing.content.decode()
    assert secret not in listing.content.decode() + page.content.decode()
    assert secret.removeprefix("whsec_") not in page.content.decode()


def test_it_shows_events(staff, org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)
    event = Event.objects.get()

    assert staff.get("/admin/webhooks/event/").status_code == 200
    page = staff.get(f"/admin/webhooks/event/{event.pk}/change/")
    assert page.status_code == 200
    assert "identity.state_changed" in page.content.decode()


def test_it_refuses_an_unsafe_url_or_unknown_event_edited_in_the_admin(settings, org):
    from apps.webhooks.admin import WebhookEndpointForm
    from apps.webhooks.endpoints import endpoint_create

    endpoint, _ = endpoint_create(organization=org, url="http://127.0.0.1:9/hook", events=["identity.state_changed"])
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    form = WebhookEndpointForm(
        data={"url": "http://169.254.169.254/latest", "events": '["identity.state_changed"]', "description": ""},
        instance=endpoint,
    )
    assert not form.is_valid()
    assert "url" in form.errors
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
    form = WebhookEndpointForm(
        data={"url": "http://127.0.0.1:9/x", "events": '["nope"]', "description": ""}, instance=endpoint
    )
    assert not form.is_valid()
    assert "events" in form.errors
