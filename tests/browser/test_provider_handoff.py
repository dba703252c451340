"""A person completes processes at an organization's connected providers in a real browser:
a local Onfido (tests/verifications/fake_onfido.py) and the portal's own OpenID provider as the
organization's OpenID Connect provider. Every call is HTTP: the API, the provider's hosted page,
Onfido's signed webhook, the authorization redirect and the code exchange."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.test import override_settings

from apps.oauth.models import Application
from apps.verifications.models import VerificationProcess
from config.celery import app as celery_app
from tests.factories import OrganizationFactory, make_api_key, make_person
from tests.verifications.fake_onfido import FakeOnfido

pytestmark = pytest.mark.browser

WORKFLOW = "8f4a7c2e-0d1b-4f6a-9c3e-2b5d7e9f1a3c"
PASSWORD = "Violet-lantern-harbour-42"


@pytest.fixture
def base(live_server, monkeypatch):
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    url = live_server.url.replace("localhost", "127.0.0.1")  # OpenID redirect URIs: http on loopback only
    with override_settings(PUBLIC_BASE_URL=url):
        yield url


def _api(page, base, method, path, key, data=None):
    url = f"{base}/api/v1/orgs/acme/{path}"
    headers = {"Authorization": f"Bearer {key}"}
    response = getattr(page.request, method)(url, headers=headers, data=data)
    assert response.status in (200, 201), (response.status, response.text())
    return response.json()


def test_a_person_verifies_at_the_organizations_onfido(desktop, base, screenshot):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    key = make_api_key(org)
    with FakeOnfido() as onfido:
        onfido.webhook_url = f"{base}/api/v1/providers/onfido/webhook/acme"
        settings = {
            "api_token": onfido.api_token,
            "webhook_token": onfido.webhook_token,
            "workflow_id": WORKFLOW,
            "api_url": onfido.api_url,
        }
        _api(desktop, base, "put", "providers/onfido", key, settings)
        body = {"provider": "onfido", "processType": "documentSelfie", "redirectUrl": f"{base}/healthz?from=onfido"}
        process = _api(desktop, base, "post", "processes", key, body)
        assert process["url"].startswith(onfido.base_url)

        desktop.goto(process["url"])
        desktop.get_by_role("button", name="Submit documents").click()
        desktop.wait_for_url(f"{base}/verify/**")
        assert onfido.state.webhooks == [200]
        screenshot(desktop, "verification-onfido-returned.png")

    done = _api(desktop, base, "get", f"processes/{process['processId']}", key)
    assert done["status"] == "accepted"
    assert done["finalResult"]["lastName"] == "SANTOS MENDES"
    assert done["finalResult"]["documentType"] == "identityCard"
    desktop.get_by_role("link", name="Back to Acme Bank").click()
    desktop.wait_for_url("**/healthz?from=onfido&processId=*")
    assert "status=accepted" in desktop.url


@pytest.mark.parametrize(("button", "status"), [("Allow", "accepted"), ("Deny", "canceled")])
def test_a_person_signs_in_at_the_organizations_openid_provider(desktop, base, button, status):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    key = make_api_key(org)
    make_person("eva@example.com", password=PASSWORD, first_name="Eva", last_name="Lind")
    app = Application(
        name="Acme sign-in", redirect_uris=f"{base}/verify/connect/callback", allowed_scopes="openid profile"
    )
    app.full_clean()
    app.save()
    provider = {**django_settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": base}
    with override_settings(OAUTH2_PROVIDER=provider):
        _api(desktop, base, "put", "providers/connect", key, {"issuer": base, "client_id": app.client_id})
        body = {"provider": "connect", "redirectUrl": f"{base}/healthz?from=connect"}
        process = _api(desktop, base, "post", "processes", key, body)
        assert process["url"].startswith(f"{base}/oauth/authorize/")

        desktop.goto(process["url"])
        desktop.wait_for_url("**/accounts/login/**")
        desktop.get_by_label("Email").fill("eva@example.com")
        desktop.get_by_label("Password").fill(PASSWORD)
        desktop.locator("main").get_by_role("button", name="Sign in").click()
        desktop.wait_for_url("**/oauth/authorize/**")
        desktop.get_by_role("button", name=button).click()
        desktop.wait_for_url("**/healthz?from=connect&processId=*")

    assert f"status={status}" in desktop.url
    stored = VerificationProcess.objects.get(pk=process["processId"])
    assert stored.status == status
    if status == "accepted":
        assert stored.final_result == {"firstName": "Eva", "lastName": "Lind"}
