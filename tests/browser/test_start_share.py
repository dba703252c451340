"""A person shares their own details from /me/ (issue 15): the API may share only for managed
identities, so a non-managed person starts the share themselves, reviews exactly what leaves,
confirms, and the receptor sees it (on their page, and their organization through the API).

The person's side runs with JavaScript switched off: the pages must work without it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.activities.models import Activity, ActivityStatus, ActivityType
from apps.activities.services import activity_create
from apps.audit.services import Actor
from apps.identities.services import identity_activate
from apps.people.services import person_set_details
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_overflow
from tests.factories import OrganizationFactory, make_api_key, make_identity, make_person

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-9"


def _parties():
    """Acme's advisor Bruno (managed, with an account) asked Noor (not managed) for her name once."""
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    bruno = make_person("bruno@acme.example", password=PASSWORD)
    person_set_details(person=bruno, details={"first_name": "Bruno", "last_name": "Banker"})
    bank = identity_activate(
        identity=make_identity(org, email="bruno@acme.example", first_name="Bruno", last_name="Banker", managed=True),
        person=bruno,
    )
    noor = make_person("noor@example.com", password=PASSWORD)
    person_set_details(
        person=noor,
        details={"first_name": "Noor", "last_name": "Bakker", "phone": "+31600000001", "nationality": "NLD"},
    )
    mine = identity_activate(
        identity=make_identity(org, email="noor@example.com", first_name="Noor", last_name="Bakker", managed=False),
        person=noor,
    )
    return org, bank, mine


def _sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign in").click()
    assert page.url == f"{live_server.url}/me/"


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_person_shares_their_details_and_the_receptor_sees_them(
    browser, transactional_db, live_server, screenshot, device
):
    org, bank, mine = _parties()
    key = make_api_key(org)
    headers = {"Authorization": f"Bearer {key}"}
    context = browser.new_context(**(DESKTOP if device == "desktop" else PHONE), locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()

    # The organization cannot share Noor's details for her.
    refused = page.request.post(
        f"{live_server.url}/api/v1/orgs/acme/activities",
        headers=headers,
        data={
            "type": "AT_002",
            "initiator_id": str(mine.pk),
            "receptor_id": str(bank.pk),
            "offered_details": ["phone"],
            "sharing_period": "P30D",
        },
    )
    assert refused.status == 403, refused.text()
    assert refused.json()["errors"][0]["code"] == "not_managed"
    # Bruno asks Noor something: from then on she knows him through Acme.
    asked = page.request.post(
        f"{live_server.url}/api/v1/orgs/acme/activities",
        headers=headers,
        data={
            "type": "AT_001",
            "initiator_id": str(bank.pk),
            "receptor_id": str(mine.pk),
            "requirements": [{"detail": "first_name", "required": True}],
        },
    )
    assert asked.status == 201, asked.text()
    context.close()

    # Noor, in a browser without JavaScript.
    context = browser.new_context(
        **(DESKTOP if device == "desktop" else PHONE), locale="en-GB", java_script_enabled=False
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    _sign_in(page, live_server, "noor@example.com")
    page.get_by_role("link", name="Share my details").click()
    page.wait_for_url(f"{live_server.url}/me/share/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Share my details")
    page.get_by_role("radio", name="Bruno Banker, Acme Bank").check()
    phone_detail = page.get_by_role("checkbox", name="Phone number")
    expect(phone_detail).to_have_accessible_description("+31600000001")
    phone_detail.check()
    page.get_by_role("checkbox", name="First name").check()

    # Reviewing without a period: the error is next to the period, announced, and the choices stay.
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Review").click()
    assert navigation.value.status == 400
    period = page.get_by_role("group", name="Share them for how long?")
    expect(period.get_by_role("alert")).to_have_text("Choose how long the details are shared.")
    expect(page.get_by_role("checkbox", name="Phone number")).to_be_checked()
    expect(page.get_by_role("radio", name="Bruno Banker, Acme Bank")).to_be_checked()
    if device == "phone":
        assert_no_horizontal_overflow(page)
    screenshot(page, f"start-share-{device}.png")

    period.get_by_role("radio", name="30 days").check()
    page.get_by_label("A note for them (optional)").fill("For the mortgage file")
    page.get_by_role("button", name="Review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check before you confirm")
    shown = page.get_by_role("region", name="Bruno Banker will see these details")
    expect(shown).to_contain_text("+31600000001")
    expect(shown).to_contain_text("Noor")
    assert not Activity.objects.filter(type=ActivityType.SHARE).exists()  # nothing before the confirmation
    if device == "phone":
        assert_no_horizontal_overflow(page)
    screenshot(page, f"start-share-confirm-{device}.png")

    page.get_by_role("button", name="Confirm and share").click()
    activity = Activity.objects.get(type=ActivityType.SHARE)
    page.wait_for_url(f"{live_server.url}/me/activities/{activity.pk}/")
    expect(page.get_by_role("status")).to_contain_text("You share First name, Phone number with Bruno Banker until")
    expect(page.get_by_role("heading", level=1)).to_have_text("You shared details with Bruno Banker")
    assert activity.status == ActivityStatus.ACCEPTED
    assert (activity.initiator_id, activity.receptor_id) == (mine.pk, bank.pk)
    context.close()

    # The receptor's side: Bruno on his page, and Acme through the API (Bruno is managed).
    context = browser.new_context(**(DESKTOP if device == "desktop" else PHONE), locale="en-GB")
    context.set_default_timeout(10_000)
    page = context.new_page()
    _sign_in(page, live_server, "bruno@acme.example")
    shared = page.get_by_role("region", name="Shared now")
    item = shared.get_by_role("listitem").filter(has_text="With Noor Bakker")
    expect(item).to_contain_text("You receive: First name, Phone number")
    item.get_by_role("link", name="With Noor Bakker", exact=True).click()
    received = page.get_by_role("region", name="What Noor Bakker shares with you")
    expect(received).to_contain_text("+31600000001")
    expect(page.locator("dl.facts")).to_contain_text("For the mortgage file")
    details = page.request.get(
        f"{live_server.url}/api/v1/orgs/acme/activities/{activity.pk}/details",
        headers=headers,
        params={"as": "receptor"},
    )
    assert details.status == 200, details.text()
    assert details.json()["received"] == {"first_name": "Noor", "phone": "+31600000001"}
    context.close()


def test_the_share_pages_work_in_spanish(browser, transactional_db, live_server):
    org, bank, mine = _parties()
    activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=bank.pk,
        receptor_id=mine.pk,
        requirements=[{"detail": "first_name", "required": True}],
        actor=Actor.system("test"),
    )
    context = browser.new_context(**DESKTOP, locale="es-ES", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Correo electrónico").fill("noor@example.com")
    page.get_by_label("Contraseña").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Iniciar sesión").click()
    page.get_by_role("link", name="Proponer un intercambio").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Proponer un intercambio")
    with page.expect_navigation():
        page.get_by_role("button", name="Revisar").click()
    expect(page.get_by_role("group", name="¿Con quién?").get_by_role("alert")).to_have_text(
        "Elige con quién compartir."
    )
    assert re.search("Datos que pides a cambio", page.content())
    context.close()
