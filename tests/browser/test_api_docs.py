"""Swagger UI renders from the portal's own static files (no CDN is reachable here)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_it_renders_the_api_docs_offline(desktop, live_server, screenshot):
    failed: list[str] = []
    desktop.on("requestfailed", lambda request: failed.append(request.url))

    desktop.goto(f"{live_server.url}/api/docs/")
    desktop.wait_for_selector(".swagger-ui .info .title", timeout=15000)

    assert "Identity and Consent Portal API" in desktop.inner_text(".swagger-ui .info .title")
    assert desktop.locator(".opblock-tag", has_text="Identities").count() == 1
    assert desktop.locator(".opblock-tag", has_text="Webhooks").count() == 1
    assert not [url for url in failed if not url.startswith(live_server.url)]
    screenshot(desktop, "api-docs-desktop.png")
