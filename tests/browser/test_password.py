"""A person recovers their account from the sign-in page, and changes their password from /me/,
in a real browser, in Spanish and in English: every step in the person's language, the link from
the email, the old password refused afterwards."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_overflow
from tests.factories import make_person

pytestmark = pytest.mark.browser


def _sign_in(page, base: str, email: str, password: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.locator("main").get_by_label(re.compile("^(Email|Correo)")).fill(email)
    page.locator("main").get_by_label(re.compile("^(Password|Contraseña)$")).fill(password)
    with page.expect_navigation():
        page.locator("main form").get_by_role("button").click()


def _reset_link(base: str) -> str:
    """The link of the last reset email, on the live server (emails name PUBLIC_BASE_URL, never
    the request's host)."""
    bodies = [message.body for message in mail.outbox]
    paths = [match for body in bodies for match in re.findall(r"https?://[^/\s]+(/accounts/reset/\S+/)", body)]
    assert paths, bodies
    return base + paths[-1]


def test_a_person_recovers_the_account_in_spanish(phone, live_server, screenshot):
    page = phone
    make_person(email="lucia@example.com", password="old-horse-battery-1", first_name="Lucía")
    page.goto(f"{live_server.url}/accounts/login/")
    # The person switches the page to Spanish with the footer's language switcher.
    page.get_by_label("Language").select_option("es")
    with page.expect_navigation():
        page.get_by_role("button", name="Change language").click()
    page.get_by_role("link", name="¿Has olvidado tu contraseña?").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Restablece tu contraseña")
    page.locator("main").get_by_label(re.compile("^Correo")).fill("lucia@example.com")
    with page.expect_navigation():
        page.locator("main form").get_by_role("button").click()
    assert page.url.endswith("/accounts/password_reset/done/")
    assert_no_horizontal_overflow(page)

    page.goto(_reset_link(live_server.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Elige una contraseña nueva")
    fields = page.locator("main form input[type=password]")
    expect(fields).to_have_count(2)
    fields.nth(0).fill("new-horse-battery-2")
    fields.nth(1).fill("new-horse-battery-2")
    screenshot(page, "password-reset-phone-es.png")
    with page.expect_navigation():
        page.locator("main form").get_by_role("button").click()
    assert "/accounts/reset/done/" in page.url
    expect(page.locator("main")).not_to_contain_text("password")  # no English on a Spanish page

    # The link works once; the old password no longer does, the new one does.
    page.goto(_reset_link(live_server.url))
    expect(page.locator("[data-state=invalid-link]")).to_be_visible()
    _sign_in(page, live_server.url, "lucia@example.com", "old-horse-battery-1")
    assert "/accounts/login/" in page.url
    _sign_in(page, live_server.url, "lucia@example.com", "new-horse-battery-2")
    assert page.url == f"{live_server.url}/me/"


def test_a_person_changes_the_password_from_their_page(desktop, live_server, screenshot):
    page = desktop
    make_person(email="omar@example.com", password="old-horse-battery-1", first_name="Omar")
    _sign_in(page, live_server.url, "omar@example.com", "old-horse-battery-1")

    page.get_by_role("link", name="Change my password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Change your password")
    fields = page.locator("main form input[type=password]")
    expect(fields).to_have_count(3)
    fields.nth(0).fill("wrong-old-password")
    fields.nth(1).fill("new-horse-battery-2")
    fields.nth(2).fill("new-horse-battery-2")
    with page.expect_navigation():
        page.locator("main form").get_by_role("button", name="Change the password").click()
    expect(page.locator("main form")).to_contain_text("old password was entered incorrectly")

    fields.nth(0).fill("old-horse-battery-1")
    fields.nth(1).fill("new-horse-battery-2")
    fields.nth(2).fill("new-horse-battery-2")
    with page.expect_navigation():
        page.locator("main form").get_by_role("button", name="Change the password").click()
    assert page.url.endswith("/accounts/password_change/done/")
    screenshot(page, "password-changed-desktop.png")

    page.context.clear_cookies()
    _sign_in(page, live_server.url, "omar@example.com", "old-horse-battery-1")
    assert "/accounts/login/" in page.url
    _sign_in(page, live_server.url, "omar@example.com", "new-horse-battery-2")
    assert page.url == f"{live_server.url}/me/"
