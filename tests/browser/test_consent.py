"""A person answers consent activities in the browser: the /me/ inbox, the consent screen, sharing
with time left, the integrator reading exactly what was accepted, revoking, and an authorization
that needs a FaceTec check first (sandbox)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.activities.models import Activity, ActivityStatus
from apps.identities.services import identity_activate
from apps.people.services import person_set_details
from tests.browser.conftest import assert_no_horizontal_overflow
from tests.factories import OrganizationFactory, make_api_key, make_identity, make_person

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-9"


def _parties():
    """The bank's managed identity (the API answers for it) and Eva's own identity (she answers herself)."""
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    bank = make_identity(org, email="bruno@acme.example", first_name="Bruno", last_name="Banker", managed=True)
    identity_activate(identity=bank, person=make_person("bruno@acme.example", first_name="Bruno"))
    eva = make_person("eva@example.com", password=PASSWORD)
    person_set_details(
        person=eva,
        details={"first_name": "Eva", "last_name": "Smit", "date_of_birth": "1985-12-24", "nationality": "NLD"},
    )
    me = identity_activate(identity=make_identity(org, email="eva@example.com", managed=False), person=eva)
    return org, bank, me


def _api(page, live_server, key: str, method: str, path: str, data: dict | None = None):
    url = f"{live_server.url}/api/v1/orgs/acme/{path}"
    headers = {"Authorization": f"Bearer {key}"}
    if method == "post":
        return page.request.post(url, headers=headers, data=data)
    return page.request.get(url, headers=headers)


def _sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("eva@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign in").click()
    assert page.url == f"{live_server.url}/me/"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_person_accepts_part_of_a_request_and_revokes_it(request, device, live_server, screenshot):
    page = request.getfixturevalue(device)
    org, bank, me = _parties()
    key = make_api_key(org)
    created = _api(
        page,
        live_server,
        key,
        "post",
        "activities",
        {
            "type": "AT_001",
            "initiator_id": str(bank.pk),
            "receptor_id": str(me.pk),
            "purpose": "Open a savings account",
            "requirements": [
                {"detail": "first_name", "required": True},
                {"detail": "last_name", "required": True},
                {"detail": "date_of_birth", "required": False},
                {"detail": "nationality", "required": False},
            ],
        },
    )
    assert created.status == 201, created.text()
    activity_id = created.json()["id"]
    assert created.json()["status"] == "SENT"

    _sign_in(page, live_server)
    inbox = page.get_by_role("region", name="Requests waiting for you")
    item = inbox.get_by_role("listitem").filter(has_text="Bruno Banker asks for your details")
    expect(item).to_contain_text("Action required")
    expect(item).to_contain_text("Open a savings account")
    if device == "phone":
        assert_no_horizontal_overflow(page)
    screenshot(page, f"consent-inbox-{device}.png")

    item.get_by_role("link", name=re.compile("^Review")).click()
    page.wait_for_url(f"{live_server.url}/me/activities/{activity_id}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bruno Banker asks for your details")
    # Required details are ticked and locked; optional ones are the person's to choose; values are shown.
    first = page.get_by_role("checkbox", name="First name")
    expect(first).to_be_checked()
    expect(first).to_be_disabled()
    expect(first).to_have_accessible_description("Eva")
    dob = page.get_by_role("checkbox", name="Date of birth")
    expect(dob).to_be_checked()
    expect(dob).to_be_enabled()
    expect(dob).to_have_accessible_description("24 Dec 1985")
    if device == "phone":
        assert_no_horizontal_overflow(page)
    screenshot(page, f"consent-screen-{device}.png")

    dob.uncheck()
    # Accepting without a period: the error is shown, and announced, with the period choice.
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Accept and share").click()
    assert navigation.value.status == 400
    period = page.get_by_role("group", name="Share them for how long?")
    expect(period.get_by_role("alert")).to_have_text("Choose how long the details are shared.")
    expect(period).to_have_accessible_description(re.compile("Choose how long the details are shared."))
    expect(page.get_by_role("checkbox", name="Date of birth")).not_to_be_checked()
    if device == "phone":
        assert_no_horizontal_overflow(page)
        screenshot(page, "consent-error-phone.png")

    page.get_by_role("radio", name="7 days").check()
    page.get_by_role("button", name="Accept and share").click()

    page.wait_for_url(f"{live_server.url}/me/")
    expect(page.get_by_role("status")).to_contain_text("You share First name, Last name, Nationality with Bruno Banker")
    shared = page.get_by_role("region", name="Shared now").get_by_role("listitem").filter(has_text="With Bruno Banker")
    expect(shared).to_contain_text("You share: First name, Last name, Nationality")
    expect(shared).to_contain_text(re.compile(r"6\sdays, 23\shours left"))
    receipts = page.get_by_role("region", name="Consent receipts")
    expect(receipts).to_contain_text("To Bruno Banker, Acme Bank")
    if device == "phone":
        assert_no_horizontal_overflow(page)
    screenshot(page, f"consent-shared-{device}.png")

    # The receipt: viewable, and downloadable as JSON.
    receipts.get_by_role("link", name="To Bruno Banker, Acme Bank").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("What you shared with Bruno Banker")
    expect(page.get_by_role("main")).to_contain_text("First name, Last name, Nationality")
    if device == "phone":
        assert_no_horizontal_overflow(page)
    screenshot(page, f"consent-receipt-{device}.png")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download as JSON").click()
    receipt = json.loads(Path(download.value.path()).read_text())
    assert receipt["details"] == ["first_name", "last_name", "nationality"]
    assert receipt["recipient"] == "Bruno Banker" and receipt["activity_id"] == activity_id
    page.get_by_role("link", name="Back to my page").click()
    shared = page.get_by_role("region", name="Shared now").get_by_role("listitem").filter(has_text="With Bruno Banker")

    # The bank reads exactly the accepted fields, as the values were at consent time.
    details = _api(page, live_server, key, "get", f"activities/{activity_id}/details?as=initiator")
    assert details.status == 200, details.text()
    assert details.json()["received"] == {"first_name": "Eva", "last_name": "Smit", "nationality": "NLD"}
    assert details.json()["status"] == "ACCEPTED"

    shared.get_by_role("link", name="End sharing… the sharing with Bruno Banker").click()
    # A confirmation step, no JavaScript needed.
    expect(page.get_by_role("heading", level=1)).to_have_text("End this sharing?")
    screenshot(page, f"consent-confirm-end-{device}.png")
    page.get_by_role("button", name="Yes, end the sharing").click()
    page.wait_for_url(f"{live_server.url}/me/")
    expect(page.get_by_role("status")).to_contain_text("The shared values have been deleted")
    expect(page.get_by_role("region", name="Shared now")).to_contain_text("You are not sharing anything right now.")
    expect(page.get_by_role("region", name="History").get_by_role("listitem").first).to_contain_text("Revoked")

    gone = _api(page, live_server, key, "get", f"activities/{activity_id}/details?as=initiator")
    assert gone.status == 410, gone.text()
    activity = Activity.objects.get(pk=activity_id)
    assert activity.status == ActivityStatus.EXPIRED


def test_an_authorization_needs_a_facetec_check_in_the_browser_first(desktop, live_server, screenshot, settings):
    page = desktop
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ACTIVITIES_BIOFACE_PROVIDER = "sandbox"
    org, bank, me = _parties()
    key = make_api_key(org)
    created = _api(
        page,
        live_server,
        key,
        "post",
        "activities",
        {
            "type": "AT_004",
            "initiator_id": str(bank.pk),
            "receptor_id": str(me.pk),
            "purpose": "Mortgage",
            "authorization": {"description": "Sign the mortgage deed for Keizersgracht 1", "requires_bioface": True},
        },
    )
    assert created.status == 201, created.text()
    activity_id = created.json()["id"]

    _sign_in(page, live_server)
    page.get_by_role("link", name="Bruno Banker asks for your authorization", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Bruno Banker asks for your authorization")
    expect(page.get_by_role("main")).to_contain_text("Sign the mortgage deed for Keizersgracht 1")
    approve = page.get_by_role("button", name="Approve")
    expect(approve).to_be_disabled()
    screenshot(page, "consent-bioface-desktop.png")

    page.get_by_role("button", name="Start the face check").click()
    page.wait_for_url(re.compile(r"/verify/"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("Acme Bank asks you to verify your identity")
    page.get_by_label("FaceTec: accepted", exact=True).check()
    page.get_by_role("button", name="Report this outcome").click()

    # Back on the consent screen, the check is done and approving works.
    page.wait_for_url(re.compile(rf"/me/activities/{activity_id}/\?processId=.*status=accepted"))
    expect(page.get_by_role("region", name="Face check")).to_contain_text(
        "Your face check was accepted. You can now approve."
    )
    expect(page.get_by_role("region", name="Face check")).not_to_contain_text("You can try again")
    expect(approve).to_be_enabled()
    screenshot(page, "consent-bioface-passed-desktop.png")
    approve.click()

    page.wait_for_url(f"{live_server.url}/me/")
    expect(page.get_by_role("status")).to_contain_text("You gave Bruno Banker your authorization.")
    seen = _api(page, live_server, key, "get", f"activities/{activity_id}?as=receptor")
    assert seen.json()["status"] == "ACCEPTED"
