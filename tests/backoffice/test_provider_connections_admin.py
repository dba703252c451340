"""Provider connections in the back office: the organization's administrators connect and edit
them; secrets are write-only; every change goes through the audited service."""

from __future__ import annotations

import pytest

from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.verifications.handoff import connection_put
from apps.verifications.models import ProviderConnection
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

ADD = "/admin/verifications/providerconnection/add/"
WORKFLOW = "8f4a7c2e-0d1b-4f6a-9c3e-2b5d7e9f1a3c"
SETTINGS = {"api_token": "api_sandbox.very-secret", "webhook_token": "hook-secret", "workflow_id": WORKFLOW}


PREFIX = "audit-transition-content_type-object_id"


def _trail(rows: int) -> dict[str, str]:
    """The audit trail inline's management form, as the page renders it."""
    return {f"{PREFIX}-TOTAL_FORMS": str(rows), f"{PREFIX}-INITIAL_FORMS": str(rows), f"{PREFIX}-MAX_NUM_FORMS": "0"}


def _change(connection):
    return f"/admin/verifications/providerconnection/{connection.pk}/change/"


def _connected(org):
    connection, _ = connection_put(organization=org, provider="onfido", settings=SETTINGS, actor=Actor.system("test"))
    return connection


def test_an_administrator_connects_onfido_for_their_organization(staff_client, org):
    client = staff_client("administrator")
    data = {"organization": org.pk, "provider": "onfido", **SETTINGS, "api_url": "", **_trail(0)}
    response = client.post(ADD, data)
    assert response.status_code == 302, response.content[:2000]
    connection = ProviderConnection.objects.get(organization=org, provider="onfido")
    assert connection.settings == {**SETTINGS, "api_url": "https://api.eu.onfido.com/v3.6"}
    row = Transition.objects.get(event_type="provider.connected")
    assert row.actor_type == "user" and "secret" not in str(row.data)


def test_secrets_are_never_shown_and_blank_keeps_them(staff_client, org):
    connection = _connected(org)
    client = staff_client("administrator")
    page = client.get(_change(connection))
    assert page.status_code == 200
    html = page.content.decode()
    assert WORKFLOW in html
    assert "very-secret" not in html and "hook-secret" not in html
    other = "1b6c0e1a-9d7f-4c1e-8a6b-3f2d5e7c9a10"
    response = client.post(
        _change(connection), {"workflow_id": other, "api_token": "", "webhook_token": "", **_trail(1)}
    )
    assert response.status_code == 302, response.content[:2000]
    connection.refresh_from_db()
    assert connection.settings == {**SETTINGS, "workflow_id": other, "api_url": "https://api.eu.onfido.com/v3.6"}
    assert Transition.objects.filter(event_type="provider.changed", actor_type="user").count() == 1


def test_bad_settings_show_the_error_and_change_nothing(staff_client, org):
    client = staff_client("administrator")
    response = client.post(ADD, {"organization": org.pk, "provider": "connect", "issuer": "", "client_id": "x"})
    assert response.status_code == 200
    assert "Required" in response.content.decode()
    assert not ProviderConnection.objects.exists()


def test_operators_and_viewers_cannot_change_connections(staff_client, org):
    connection = _connected(org)
    for role in ("operator", "viewer"):
        client = staff_client(role)
        assert client.post(ADD, {"organization": org.pk, "provider": "onfido", **SETTINGS}).status_code == 403
        page = client.get(_change(connection))
        assert "very-secret" not in page.content.decode()
    assert ProviderConnection.objects.count() == 1


def test_another_organizations_connection_is_out_of_reach(staff_client, org):
    connection = _connected(org)
    elsewhere = OrganizationFactory(slug="elsewhere")
    client = staff_client("administrator", elsewhere)
    assert client.get(_change(connection)).status_code in (302, 404)
    response = client.post(ADD, {"organization": org.pk, "provider": "onfido", **SETTINGS})
    assert response.status_code == 200  # the organization is not one of theirs: a form error
    assert ProviderConnection.objects.count() == 1


def test_disconnecting_in_the_back_office_is_audited(staff_client, org):
    connection = _connected(org)
    client = staff_client("administrator")
    response = client.post(f"/admin/verifications/providerconnection/{connection.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not ProviderConnection.objects.exists()
    assert Transition.objects.filter(event_type="provider.disconnected", actor_type="user").count() == 1
