"""People sign in at /accounts/login/ with their email and land on /me/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_overflow
from tests.factories import make_person

pytestmark = pytest.mark.browser


def _sign_in(page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign in").click()


def test_it_rejects_a_wrong_password_and_then_signs_in(phone, live_server, screenshot):
    page = phone
    make_person(email="maria@example.com", password="correct-horse-9", first_name="María", last_name="López")

    page.goto(f"{live_server.url}/accounts/login/")
    _sign_in(page, "maria@example.com", "wrong-password-1")

    assert page.url == f"{live_server.url}/accounts/login/"
    form = page.locator("main form")
    expect(form.get_by_role("alert")).to_contain_text("Please enter a correct email address and password")
    # The email is kept, the password is not.
    expect(page.get_by_label("Email")).to_have_value("maria@example.com")
    expect(page.get_by_label("Password")).to_have_value("")
    assert_no_horizontal_overflow(page)
    screenshot(page, "login-phone.png")

    _sign_in(page, "maria@example.com", "correct-horse-9")

    assert page.url == f"{live_server.url}/me/"
    details = page.get_by_role("region", name="My personal details")
    first = details.get_by_role("row", name="First name")
    expect(first).to_contain_text("María")
    expect(first).to_contain_text("Self-declared")
    expect(details.get_by_role("row", name="Last name")).to_contain_text("López")
    expect(page.get_by_role("region", name="Organizations that know you")).to_contain_text(
        "No organization has linked an identity"
    )
    assert_no_horizontal_overflow(page)


def test_it_sends_anonymous_visitors_of_me_to_the_login_page(desktop, live_server):
    desktop.goto(f"{live_server.url}/me/")

    assert desktop.url == f"{live_server.url}/accounts/login/?next=/me/"
    expect(desktop.get_by_role("heading", level=1)).to_have_text("Sign in")
