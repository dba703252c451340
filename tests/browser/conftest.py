"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

No browser is ever downloaded: the tests use /usr/bin/chromium or skip.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an asyncio loop in the test thread, so Django's async-safety
# check would refuse every ORM call the test itself makes (factories, assertions).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_MISSING = "Chromium not found at /usr/bin/chromium; install Debian's chromium package"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
REPOSITORY = Path(__file__).resolve().parents[2]
# Every run writes its screenshots under var/ (ignored by git); UPDATE_SCREENSHOTS=1 writes the
# tracked ones under docs/screenshots/ that the README shows, so a plain run leaves git clean.
SCREENSHOTS = REPOSITORY / "var" / "screenshots"
TRACKED_SCREENSHOTS = REPOSITORY / "docs" / "screenshots"
STRONG_PASSWORD = "Violet-lantern-harbour-42"

DESKTOP = {"viewport": {"width": 1280, "height": 800}}
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 1,
    "is_mobile": True,
    "has_touch": True,
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists():
        return
    skip = pytest.mark.skip(reason=CHROMIUM_MISSING)
    here = Path(__file__).parent
    for item in items:
        if item.get_closest_marker("browser") or Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(CHROMIUM_MISSING)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser, options: dict) -> Iterator[object]:
    context = browser.new_context(**options, locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser, transactional_db, live_server) -> Iterator[object]:
    """A 1280x800 page."""
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone(browser, transactional_db, live_server) -> Iterator[object]:
    """A 390x844 touch page, roughly an iPhone 14."""
    yield from _page(browser, PHONE)


def screenshots_folder() -> Path:
    """var/screenshots/, or docs/screenshots/ when UPDATE_SCREENSHOTS is set (1, true or yes)."""
    if os.environ.get("UPDATE_SCREENSHOTS", "").strip().lower() in ("1", "true", "yes"):
        return TRACKED_SCREENSHOTS
    return SCREENSHOTS


@pytest.fixture
def screenshot():
    """Save a full-page screenshot into screenshots_folder() (the README and reviewers use them)."""

    def take(page, name: str) -> Path:
        folder = screenshots_folder()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def invitation_link(live_server):
    """The invitation URL from the last email sent to `email`, pointed at the live server."""
    from django.core import mail

    def find(email: str) -> str:
        messages = [m for m in mail.outbox if email in m.to]
        assert messages, f"no invitation email to {email}"
        match = re.search(r"http://testserver/\S+", messages[-1].body)
        assert match, messages[-1].body
        return match.group(0).replace("http://testserver", live_server.url, 1)

    return find


def assert_no_horizontal_overflow(page) -> None:
    """Nothing on the page is wider than the viewport (a phone must not scroll sideways)."""
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"page is {overflow}px wider than the viewport"


def admin_sign_in(page, base_url: str, email: str, password: str = STRONG_PASSWORD) -> None:
    """Sign a staff account in to /admin/ through the real pages: the password, then the second
    factor, enrolling the authenticator first when the account has none (the code is computed
    from the key the enrolment page shows, as an app would)."""
    from base64 import b32decode

    from django_otp.plugins.otp_totp.models import TOTPDevice

    from apps.people.models import User
    from tests.factories import totp_code, totp_code_for_key

    page.goto(f"{base_url}/admin/login/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert "/admin/second-factor/" in page.url, page.url
    secret = page.locator("#totp-secret")
    if secret.count():
        code = totp_code_for_key(b32decode(secret.inner_text().replace(" ", "")))
    else:
        code = totp_code(TOTPDevice.objects.get(user=User.objects.filter_by_email(email).get(), confirmed=True))
    page.locator("#id_otp_token").fill(code)
    with page.expect_navigation():
        page.locator("#second-factor-form [type=submit]").click()
    if page.locator("#backup-codes").count():
        with page.expect_navigation():
            page.get_by_role("link", name="Continue to the back office").click()
