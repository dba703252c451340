"""A person opens the emailed invitation link and activates their identity (seed 002)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.identities.models import ExternalPersonalIdentity, IdentityState
from tests.browser.conftest import STRONG_PASSWORD, assert_no_horizontal_overflow
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.browser


def _state(identity: ExternalPersonalIdentity) -> str:
    identity.refresh_from_db()
    return identity.state


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_it_creates_an_account_and_activates_the_identity(request, device, invitation_link, screenshot, live_server):
    page = request.getfixturevalue(device)
    org = OrganizationFactory(name="Acme Bank")
    identity = make_identity(org, email="ana@example.com", first_name="Ana", last_name="García")
    link = invitation_link("ana@example.com")

    response = page.goto(link)
    assert response.status == 200
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Bank")
    expect(page.get_by_label("New password", exact=True)).to_be_visible()
    if device == "phone":
        assert_no_horizontal_overflow(page)
    screenshot(page, f"invitation-{device}.png")

    page.get_by_label("New password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("New password confirmation").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Create account and activate").click()

    page.wait_for_url(f"{live_server.url}/me/")
    orgs = page.get_by_role("region", name="Organizations that know you")
    row = orgs.get_by_role("listitem").filter(has_text="Acme Bank")
    expect(row).to_contain_text("Active")
    details = page.get_by_role("region", name="My personal details")
    expect(details.get_by_role("row", name="First name")).to_contain_text("Ana")
    expect(details.get_by_role("row", name="Last name")).to_contain_text("García")
    if device == "phone":
        assert_no_horizontal_overflow(page)
    screenshot(page, f"me-{device}.png")

    assert _state(identity) == IdentityState.ACTIVE
    assert identity.person.email == "ana@example.com"

    # The link works once.
    response = page.goto(link)
    assert response.status == 410
    expect(page.get_by_role("heading", level=1)).to_contain_text("no longer valid")
    expect(page.get_by_label("New password", exact=True)).to_have_count(0)


def test_it_activates_with_an_existing_account_after_signing_in(desktop, invitation_link, live_server):
    page = desktop
    make_person(email="ana@example.com", password="correct-horse-9", first_name="Ana")
    org = OrganizationFactory(name="Globex Insurance")
    identity = make_identity(org, email="ana@example.com")
    link = invitation_link("ana@example.com")

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Globex Insurance")
    # An existing account is never offered a second one.
    expect(page.get_by_label("New password", exact=True)).to_have_count(0)
    page.get_by_role("link", name="Sign in to activate").click()

    page.wait_for_url("**/accounts/login/**")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password").fill("correct-horse-9")
    page.get_by_role("button", name="Sign in").last.click()

    # `next` brings the person back to the invitation, now signed in.
    page.wait_for_url(link)
    assert _state(identity) == IdentityState.INVITED
    page.get_by_role("button", name="Activate with this account").click()

    page.wait_for_url(f"{live_server.url}/me/")
    row = page.get_by_role("region", name="Organizations that know you").get_by_role("listitem")
    expect(row.filter(has_text="Globex Insurance")).to_contain_text("Active")
    assert _state(identity) == IdentityState.ACTIVE
    assert identity.person.email == "ana@example.com"


def test_it_shows_a_mismatch_next_to_the_field_and_keeps_the_identity_invited(desktop, invitation_link):
    page = desktop
    identity = make_identity(OrganizationFactory(name="Acme Bank"), email="ana@example.com")
    link = invitation_link("ana@example.com")

    page.goto(link)
    page.get_by_label("New password", exact=True).fill(STRONG_PASSWORD)
    page.get_by_label("New password confirmation").fill(STRONG_PASSWORD + "x")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Create account and activate").click()

    assert navigation.value.status == 400
    confirmation = page.locator(".field").filter(has=page.get_by_label("New password confirmation"))
    expect(confirmation.locator(".error")).to_contain_text("two password fields didn")
    # Screen readers hear the error with the field, not only somewhere on the page.
    confirmation_input = page.get_by_label("New password confirmation")
    expect(confirmation_input).to_have_attribute("aria-invalid", "true")
    expect(confirmation_input).to_have_accessible_description(re.compile("two password fields didn"))
    expect(page.get_by_label("New password", exact=True)).to_have_accessible_description(
        re.compile("at least 8 characters")
    )
    assert _state(identity) == IdentityState.INVITED
    assert identity.person_id is None
