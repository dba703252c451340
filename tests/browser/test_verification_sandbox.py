"""The sandbox verification flow in a real browser: created by the API, answered on the page, redirected."""

from __future__ import annotations

import pytest

from apps.audit.services import Actor
from apps.verifications.links import process_url
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_create
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.browser


def test_it_runs_the_sandbox_flow_from_create_to_redirect(phone, live_server, screenshot, settings):
    settings.PUBLIC_BASE_URL = live_server.url
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    process = process_create(
        organization=org,
        provider="sandbox",
        process_type=None,
        redirect_url=f"{live_server.url}/healthz?from=verification",
        actor=Actor.system("test"),
    )
    phone.goto(process_url(process))
    assert "Acme Bank asks you to verify your identity" in phone.inner_text("h1")
    screenshot(phone, "verification-sandbox-phone.png")

    phone.get_by_label("Onfido: accepted", exact=True).check()
    phone.get_by_role("button", name="Report this outcome").click()
    phone.wait_for_url("**/healthz?from=verification&processId=*")

    assert f"processId={process.pk}" in phone.url and "status=accepted" in phone.url
    process = VerificationProcess.objects.get(pk=process.pk)
    assert process.status == "accepted"
    assert process.final_result["firstName"]
