"""The demo's webhook receiver (apps.webhooks.demo_receiver): what `make run` registers so every
state change of the demo is delivered, signed, by the worker to a real HTTP receiver."""

from __future__ import annotations

from datetime import UTC, datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.test import override_settings

from apps.identities.services import identity_activate
from apps.organizations.models import Organization
from apps.webhooks.demo_receiver import demo_receiver_url
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, WebhookEndpoint
from apps.webhooks.sender import sign_headers
from tests.factories import make_identity, make_person

RECEIVER = "/demo/webhooks/receiver"


@pytest.fixture
def log(settings, tmp_path):
    settings.DEMO_WEBHOOK_RECEIVER = True
    settings.DEMO_WEBHOOK_LOG = str(tmp_path / "demo-webhooks.log")
    return tmp_path / "demo-webhooks.log"


def _signed(secret: str, body: str) -> dict[str, str]:
    headers = sign_headers(secrets=[secret], message_id="msg_1", timestamp=datetime.now(UTC), body=body)
    return {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}


@pytest.mark.django_db
def test_it_is_not_served_outside_the_demo(client):
    assert client.post(RECEIVER, "{}", content_type="application/json").status_code == 404


@pytest.mark.django_db
def test_it_checks_the_signature_and_logs_one_line_without_personal_values(client, org, log):
    # Stored directly: http://testserver does not resolve, so endpoint_create would refuse it.
    secret = "whsec_" + "B" * 32
    WebhookEndpoint.objects.create(
        organization=org, url=demo_receiver_url(), events=["identity.state_changed"], secret=secret
    )
    body = (
        '{"id":"msg_1","type":"identity.state_changed","data":{"id":"abc","state":"ACTIVE","email":"ana@example.com"}}'
    )
    response = client.post(RECEIVER, body, content_type="application/json", **_signed(secret, body))
    assert response.status_code == 204
    forged = client.post(RECEIVER, body, content_type="application/json", **_signed("whsec_" + "A" * 32, body))
    assert forged.status_code == 401
    assert client.post(RECEIVER, "not json", content_type="application/json").status_code == 400
    lines = log.read_text().splitlines()
    assert len(lines) == 2
    assert lines[0].split("\t")[1:] == ["msg_1", "identity.state_changed", "abc", "ACTIVE", "signature verified"]
    assert lines[1].endswith("SIGNATURE NOT VERIFIED")
    assert "ana@example.com" not in log.read_text()


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_the_demos_events_to_it_over_http(live_server, log, settings):
    """seed_demo registers it; a state change is then delivered by the sender, over HTTP, signed."""
    with override_settings(PUBLIC_BASE_URL=live_server.url):
        out = StringIO()
        call_command("seed_demo", stdout=out)
        assert "Registered the demo webhook receiver" in out.getvalue()
        organization = Organization.objects.get(slug="demo")
        endpoint = WebhookEndpoint.objects.get(organization=organization, url=demo_receiver_url())
        call_command("seed_demo", stdout=StringIO())  # idempotent: still one endpoint
        assert WebhookEndpoint.objects.filter(organization=organization).count() == 1

        endpoint_ping(endpoint=endpoint)
        identity = make_identity(organization, email="new@example.com")
        identity_activate(identity=identity, person=make_person("new@example.com"))

    lines = log.read_text().splitlines()
    assert any("\twebhook.ping\t" in line for line in lines), lines
    mine = [line for line in lines if f"\t{identity.pk}\t" in line]
    assert [line.split("\t")[4] for line in mine][-2:] == ["INVITED", "ACTIVE"], lines
    assert all(line.endswith("signature verified") for line in lines), lines
    assert Delivery.objects.filter(endpoint=endpoint).exclude(status="succeeded").count() == 0
