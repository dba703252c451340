"""Cross-device data transfer: the desktop display page shows a QR; the phone signs in, answers,
and the desktop sees the result without reloading.

pytest-django's live server speaks no WebSocket, so the tests on it exercise the polling fallback;
the WebSocket test runs the portal's ASGI application in a real daphne process, which shares the
test database on PostgreSQL.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.db import connection
from playwright.sync_api import expect

from apps.audit.services import Actor, transition_apply
from apps.transfers.models import TransferSession
from tests.browser.conftest import assert_no_horizontal_overflow
from tests.factories import OrganizationFactory, make_api_key, make_person
from tests.integration.conftest import _database_url

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-9"


def _create(page, live_server, key: str, **body) -> dict:
    """POST a session through the API of `live_server` (anything with a `url`)."""
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
    expect(phone.get_by_role("heading", level=1)).to_have_text("Done: your details were shared")
    expect(desktop.locator("#transfer-status")).to_have_text("Confirmed")
    # The display page's success state replaces the QR code; a kiosk screen offers no sign-in.
    expect(desktop.get_by_text("Done: your details were shared.")).to_be_visible()
    expect(desktop.locator("#transfer-qr")).to_be_hidden()
    expect(desktop.get_by_role("link", name="Sign in")).to_have_count(0)
    screenshot(desktop, "transfer-display-confirmed-desktop.png")
    screenshot(phone, "transfer-answered-phone.png")

    decision = desktop.request.get(
        f"{live_server.url}/api/v1/orgs/acme/sessions/{body['session_id']}/decision",
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert decision["data"] == {"first_name": "Ana"}


def test_sharing_nothing_shows_an_error_by_the_details_and_the_phone_can_answer_again(desktop, phone, live_server):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    make_person("ana@example.com", password=PASSWORD, first_name="Ana", last_name="García")
    body = _create(desktop, live_server, make_api_key(org))
    _display(desktop, live_server, body)
    phone.goto(body["url"].replace("http://testserver", live_server.url))
    phone.get_by_label("Email").fill("ana@example.com")
    phone.get_by_label("Password").fill(PASSWORD)
    with phone.expect_navigation():
        phone.locator("main").get_by_role("button", name="Sign in").click()

    phone.get_by_label("First name").uncheck()
    phone.get_by_label("Last name").uncheck()
    phone.get_by_role("button", name="Share").click()

    error = phone.locator("fieldset #scopes-error[role=alert]")
    expect(error).to_have_text("Choose at least one detail to share, or decline.")
    expect(phone.get_by_role("group", name="Choose what to share")).to_have_attribute(
        "aria-describedby", "scopes-error"
    )
    assert_no_horizontal_overflow(phone)
    expect(desktop.locator("#transfer-status")).to_have_text("Retrieved")
    assert TransferSession.objects.get(pk=body["session_id"]).status == "retrieved"

    phone.get_by_label("Last name").check()
    phone.get_by_role("button", name="Share").click()
    expect(phone.locator("[data-status=confirmed]")).to_be_visible()
    expect(desktop.locator("#transfer-status")).to_have_text("Confirmed")
    assert TransferSession.objects.get(pk=body["session_id"]).data == {"last_name": "García"}


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


@pytest.fixture
def asgi_server(transactional_db, tmp_path) -> Iterator[SimpleNamespace]:
    """The portal in a daphne process (HTTP and WebSockets) on a free port, on the test database."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://…): the daphne process shares the test database")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    env.update(DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=_database_url(), PYTHONUNBUFFERED="1")
    log = tmp_path / "daphne.log"
    daphne = Path(sys.executable).with_name("daphne")
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own interpreter's daphne and arguments
            [str(daphne), "-b", "127.0.0.1", "-p", str(port), "tests.browser.asgi:application"],
            cwd=settings.BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"daphne did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.1)
        yield SimpleNamespace(url=f"http://127.0.0.1:{port}")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_over_a_websocket_the_desktop_sees_the_answer_within_a_second(desktop, phone, asgi_server):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    make_person("ana@example.com", password=PASSWORD, first_name="Ana", last_name="García")
    key = make_api_key(org)
    body = _create(desktop, asgi_server, key)
    _display(desktop, asgi_server, body)
    display = desktop.locator("#transfer-display")
    # Live over the WebSocket; the 2-second polling is switched off once the socket is open.
    expect(display).to_have_attribute("data-live", "websocket")

    phone.goto(f"{asgi_server.url}/accounts/login/")
    phone.get_by_label("Email").fill("ana@example.com")
    phone.get_by_label("Password").fill(PASSWORD)
    with phone.expect_navigation():
        phone.locator("main").get_by_role("button", name="Sign in").click()
    phone.goto(body["url"].replace("http://testserver", asgi_server.url))
    expect(desktop.locator("#transfer-status")).to_have_text("Retrieved")
    expect(phone.locator("[data-matching-code]")).to_have_text(desktop.locator("#transfer-code").inner_text())

    phone.get_by_label("Last name").uncheck()
    phone.get_by_role("button", name="Share").click()
    expect(phone.locator("[data-status=confirmed]")).to_be_visible()
    expect(desktop.locator("#transfer-status")).to_have_text("Confirmed", timeout=1_000)
    expect(display).to_have_attribute("data-live", "websocket")
    decision = desktop.request.get(
        f"{asgi_server.url}/api/v1/orgs/acme/sessions/{body['session_id']}/decision",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert decision.status == 200
    assert decision.json()["status"] == "confirmed" and decision.json()["data"] == {"first_name": "Ana"}


def test_a_second_display_tab_follows_the_renewal_made_by_the_first(desktop, live_server):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    body = _create(desktop, live_server, make_api_key(org))
    _display(desktop, live_server, body)
    second = desktop.context.new_page()
    _display(second, live_server, body)

    transition_apply(TransferSession.objects.get(pk=body["session_id"]), "expire", actor=Actor.system("test"))

    # Both pages notice the expiry (by polling here); one renews, the other gets the same replacement.
    for page in (desktop, second):
        expect(page).not_to_have_url(re.compile(body["session_id"]))
        expect(page.locator("#transfer-status")).to_have_text("Initialized")
    old = TransferSession.objects.get(pk=body["session_id"])
    assert old.replaced_by_id is not None
    assert TransferSession.objects.count() == 2
    for page in (desktop, second):
        assert str(old.replaced_by_id) in page.url
        expect(page.locator("#transfer-code")).to_have_text(old.replaced_by.matching_code)
