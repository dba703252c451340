"""Cross-device data transfer: the desktop display page shows a QR; the phone signs in, answers,
and the desktop sees the result without reloading (polling: the live server speaks no WebSocket)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.audit.services import Actor, transition_apply
from apps.transfers.models import TransferSession
from tests.browser.conftest import assert_no_horizontal_overflow
from tests.factories import OrganizationFactory, make_api_key, make_person

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-9"


def _create(page, live_server, key: str, **body) -> dict:
    response = page.request.post(
        f"{live_server.url}/api/v1/orgs/acme/sessions",
        headers={"Authorization": f"Bearer {key}"},
        data={"scopes": ["first_name", "last_name"], "vendor_data": "user-42", **body},
    )
    assert response.status == 201, response.text()
    return response.json()


def _display(page, live_server, body: dict) -> None:
    page.goto(f"{live_server.url}/session/{body['session_id']}/display?token={body['session_token']}")


def test_the_desktop_sees_the_phone_confirm_without_reloading(desktop, phone, live_server, screenshot):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    make_person("ana@example.com", password=PASSWORD, first_name="Ana", last_name="García")
    key = make_api_key(org)
    body = _create(desktop, live_server, key)
    _display(desktop, live_server, body)
    expect(desktop.get_by_role("heading", name="Acme Bank asks for your details")).to_be_visible()
    code = desktop.locator("#transfer-code").inner_text()
    expect(desktop.locator("#transfer-status")).to_have_text("Initialized")
    expect(desktop.locator("#transfer-countdown")).to_have_text(re.compile(r"^\d+:\d\d$"))

    phone.goto(body["url"].replace("http://testserver", live_server.url))
    assert "/accounts/login/" in phone.url
    phone.get_by_label("Email").fill("ana@example.com")
    phone.get_by_label("Password").fill(PASSWORD)
    with phone.expect_navigation():
        phone.locator("main").get_by_role("button", name="Sign in").click()
    expect(phone.locator("[data-matching-code]")).to_have_text(code)
    expect(desktop.locator("#transfer-status")).to_have_text("Retrieved")
    assert_no_horizontal_overflow(phone)
    screenshot(desktop, "transfer-display-desktop.png")
    screenshot(phone, "transfer-consent-phone.png")

    phone.get_by_label("Last name").uncheck()
    phone.get_by_role("button", name="Share").click()
    expect(phone.locator("[data-status=confirmed]")).to_be_visible()
    expect(desktop.locator("#transfer-status")).to_have_text("Confirmed")

    decision = desktop.request.get(
        f"{live_server.url}/api/v1/orgs/acme/sessions/{body['session_id']}/decision",
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert decision["data"] == {"first_name": "Ana"}


def test_an_expired_session_is_renewed_on_the_page_and_the_old_qr_stops_working(desktop, phone, live_server):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    make_person("ana@example.com", password=PASSWORD, first_name="Ana")
    other = OrganizationFactory(slug="globex", name="Globex")
    body = _create(desktop, live_server, make_api_key(org))
    _display(desktop, live_server, body)
    old_src = desktop.locator("#transfer-qr").get_attribute("src")

    transition_apply(TransferSession.objects.get(pk=body["session_id"]), "expire", actor=Actor.system("test"))

    expect(desktop.locator("#transfer-qr")).not_to_have_attribute("src", old_src)
    expect(desktop.locator("#transfer-status")).to_have_text("Initialized")
    old = TransferSession.objects.get(pk=body["session_id"])
    assert old.status == "expired" and old.replaced_by_id is not None
    assert str(old.replaced_by_id) in desktop.url
    expect(desktop.locator("#transfer-code")).to_have_text(old.replaced_by.matching_code)

    # The old QR no longer works, the token is a capability, and another organization sees nothing.
    status = desktop.request.get(
        f"{live_server.url}/api/v1/session/{body['session_id']}/status", headers={"X-Session-Token": "wrong"}
    )
    assert status.status == 401
    decision = desktop.request.get(
        f"{live_server.url}/api/v1/orgs/acme/sessions/{body['session_id']}/decision",
        headers={"Authorization": f"Bearer {make_api_key(other)}"},
    )
    assert decision.status == 404
    phone.goto(f"{live_server.url}/accounts/login/")
    phone.get_by_label("Email").fill("ana@example.com")
    phone.get_by_label("Password").fill(PASSWORD)
    with phone.expect_navigation():
        phone.locator("main").get_by_role("button", name="Sign in").click()
    phone.goto(body["url"].replace("http://testserver", live_server.url))
    expect(phone.get_by_role("heading", name="This request has expired")).to_be_visible()
