"""Provider connections through the API: stored encrypted, never returned, audited, per organization."""

from __future__ import annotations

import pytest
from django.db import connection as db
from django.test import override_settings

from apps.audit.models import Transition
from apps.verifications.models import ProviderConnection

pytestmark = pytest.mark.django_db

ONFIDO = {
    "api_token": "api_sandbox.secret-token",
    "webhook_token": "webhook-secret",
    "workflow_id": "8f4a7c2e-0d1b-4f6a-9c3e-2b5d7e9f1a3c",
}
CONNECT = {"issuer": "https://idp.example.com", "client_id": "portal", "client_secret": "s3cret"}
URL = "/api/v1/orgs/acme/providers"


def test_put_connects_onfido_and_never_returns_its_settings(api, org):
    response = api.put(f"{URL}/onfido", ONFIDO, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["provider"] == "onfido" and body["connected"] is True
    assert "secret" not in response.content.decode() and "api_sandbox" not in response.content.decode()
    stored = ProviderConnection.objects.get(organization=org, provider="onfido")
    assert stored.settings == {**ONFIDO, "api_url": "https://api.eu.onfido.com/v3.6"}
    with db.cursor() as cursor:
        cursor.execute("SELECT settings FROM verifications_providerconnection")
        (raw,) = cursor.fetchone()
    assert "secret" not in raw and "api_sandbox" not in raw  # encrypted at rest

    again = api.put(f"{URL}/onfido", {**ONFIDO, "api_token": "api_live.other"}, format="json")
    assert again.status_code == 200
    assert ProviderConnection.objects.get(pk=stored.pk).settings["api_token"] == "api_live.other"
    assert api.get(f"{URL}/onfido").json()["provider"] == "onfido"
    assert [c["provider"] for c in api.get(URL).json()["results"]] == ["onfido"]


def test_connect_settings_take_a_public_client_and_scopes_as_a_list(api, org):
    body = {"issuer": "https://idp.example.com", "client_id": "portal", "scopes": ["openid", "profile"]}
    assert api.put(f"{URL}/connect", body, format="json").status_code == 201
    settings = ProviderConnection.objects.get(organization=org, provider="connect").settings
    assert settings == {**body, "client_secret": "", "scopes": "openid profile"}


@pytest.mark.parametrize(
    ("provider", "body", "field"),
    [
        ("onfido", {**ONFIDO, "api_token": ""}, "api_token"),
        ("onfido", {k: v for k, v in ONFIDO.items() if k != "workflow_id"}, "workflow_id"),
        ("onfido", {**ONFIDO, "api_url": "ftp://x"}, "api_url"),
        ("onfido", {**ONFIDO, "extra": 1}, "extra"),
        ("connect", {**CONNECT, "issuer": "not a url"}, "issuer"),
        ("connect", {**CONNECT, "scopes": "profile"}, "scopes"),
        ("connect", {**CONNECT, "client_id": 5}, "client_id"),
    ],
)
def test_bad_settings_are_400_naming_the_field_and_change_nothing(api, provider, body, field):
    response = api.put(f"{URL}/{provider}", body, format="json")
    assert response.status_code == 400
    assert field in {e.get("field") for e in response.json()["errors"]}
    assert not ProviderConnection.objects.exists()


def test_a_body_that_is_not_an_object_is_400(api):
    assert api.put(f"{URL}/onfido", ["x"], format="json").status_code == 400


def test_unknown_or_unconnectable_provider_is_404(api):
    assert api.put(f"{URL}/eid", ONFIDO, format="json").status_code == 404
    assert api.get(f"{URL}/nope").status_code == 404
    assert api.get(f"{URL}/onfido").status_code == 404  # not connected
    assert api.delete(f"{URL}/onfido").status_code == 404


def test_delete_disconnects(api, org):
    api.put(f"{URL}/onfido", ONFIDO, format="json")
    assert api.delete(f"{URL}/onfido").status_code == 204
    assert not ProviderConnection.objects.exists()
    assert api.get(URL).json()["results"] == []


def test_connect_change_and_disconnect_are_audited_without_settings(api, org):
    api.put(f"{URL}/onfido", ONFIDO, format="json")
    api.put(f"{URL}/onfido", ONFIDO, format="json")
    api.delete(f"{URL}/onfido")
    rows = Transition.objects.filter(event_type__startswith="provider.").order_by("id")
    assert [r.event_type for r in rows] == ["provider.connected", "provider.changed", "provider.disconnected"]
    assert all(r.organization_id == org.pk and r.actor_type == "api_key" for r in rows)
    assert all("secret" not in str(r.data) and "api_sandbox" not in str(r.data) for r in rows)


def test_another_organizations_path_is_404(outsider_api, api):
    api.put(f"{URL}/onfido", ONFIDO, format="json")
    assert outsider_api.get(f"{URL}/onfido").status_code == 404
    assert outsider_api.put(f"{URL}/onfido", ONFIDO, format="json").status_code == 404
    assert outsider_api.delete(f"{URL}/onfido").status_code == 404
    assert ProviderConnection.objects.count() == 1


def test_without_a_connection_processes_keep_the_hosted_page(api):
    response = api.post("/api/v1/orgs/acme/processes", {"provider": "onfido", "processType": "document"}, format="json")
    assert response.status_code == 201
    assert response.json()["url"].startswith("http://testserver/verify/")


def test_a_connected_openid_provider_is_usable_where_signed_callback_connect_is_refused(api):
    # Production without PROVIDER_JWKS refuses callback-only connect processes; a connected
    # provider's ID tokens are checked against its own JWKS, so its processes are accepted.
    with override_settings(CONNECT_UNVERIFIED_JWT_ALLOWED=False, PROVIDER_JWKS={}):
        refused = api.post("/api/v1/orgs/acme/processes", {"provider": "connect"}, format="json")
        assert refused.status_code == 400
        body = {"issuer": "http://127.0.0.1:9", "client_id": "portal"}
        assert api.put(f"{URL}/connect", body, format="json").status_code == 201
        created = api.post("/api/v1/orgs/acme/processes", {"provider": "connect"}, format="json")
    assert created.status_code == 201
    assert created.json()["status"] == "failed"  # nothing listens on port 9: the issuer is unreachable
    assert created.json()["failReason"]["type"] == "provider_unreachable"
