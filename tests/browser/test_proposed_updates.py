"""Proposed updates on /me/ in a real browser (issue 15): a verification's different or new values
wait for the person, who confirms each in a step of its own or keeps theirs; on a desktop and a
phone, and without JavaScript."""

from __future__ import annotations

import copy

import pytest
from playwright.sync_api import expect

from apps.audit.services import Actor
from apps.identities.services import identity_activate
from apps.people.models import DetailProposal, DetailSource, PersonalDetail, User
from apps.verifications.sandbox import sandbox_samples
from apps.verifications.services import process_apply_provider_result, process_create
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_overflow
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-9"
# Eva's passport as Onfido reads it: her first name in full (different), her last name and date
# of birth as she gave them (equal), and the document's details she has not given (new).
PASSPORT = {
    "firstName": "EVA MARIA",
    "lastName": "SMIT",
    "dateOfBirth": "1985-12-24",
    "nationality": "NLD",
    "documentType": "passport",
    "documentNumber": "NX4471920",
    "issuingCountry": "NLD",
    "dateOfExpiry": "2031-06-30",
}


def _world() -> User:
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    eva = make_person(
        "eva@example.com",
        password=PASSWORD,
        first_name="Eva",
        last_name="Smit",
        date_of_birth="1985-12-24",
        nationality="NLD",
    )
    identity = identity_activate(identity=make_identity(org, email="eva@example.com"), person=eva)
    process = process_create(
        organization=org, provider="onfido", process_type="documentSelfie", identity=identity, actor=Actor.system("t")
    )
    payload = copy.deepcopy(sandbox_samples()["onfido"]["accepted"]["providerSpecific"])
    payload["documentVerification"].update(PASSPORT)
    process_apply_provider_result(
        process=process, event="finished", provider_specific=payload, actor=Actor.provider("onfido")
    )
    return eva


def _sign_in(page, live_server, *, email_label="Email", password_label="Password", button="Sign in") -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label(email_label).fill("eva@example.com")
    page.get_by_label(password_label).fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name=button).click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_person_reviews_confirms_and_dismisses_proposed_updates(request, device, live_server, screenshot):
    page = request.getfixturevalue(device)
    eva = _world()
    _sign_in(page, live_server)

    proposals = page.locator("section#proposals")
    expect(proposals.get_by_role("heading", level=2)).to_contain_text("Proposed updates to your details")
    first_name = proposals.locator('[data-detail="first_name"]')
    expect(first_name.locator(".before")).to_have_text("Eva")
    expect(first_name.locator(".after")).to_have_text("EVA MARIA")
    expect(first_name).to_contain_text("Verified by Onfido for Acme Bank on")
    expect(proposals.locator('[data-detail="document_number"] .before')).to_have_text("Not given yet")
    # Equal values were only marked verified: no proposal for them, and Eva's spelling stays.
    expect(proposals.locator('[data-detail="last_name"]')).to_have_count(0)
    details = page.locator("section", has=page.get_by_role("heading", name="My personal details"))
    expect(details.get_by_role("row", name="Last name")).to_contain_text("Smit")
    expect(details.get_by_role("row", name="Last name")).to_contain_text("Verified")
    assert_no_horizontal_overflow(page)
    proposals.scroll_into_view_if_needed()
    screenshot(page, f"me-proposals-{device}.png")

    # Confirming is a step of its own: before and after again, then the person's act.
    first_name.get_by_role("link", name="Review and confirm").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("First name")
    expect(page.locator(".before")).to_have_text("Eva")
    expect(page.locator(".after")).to_have_text("EVA MARIA")
    assert_no_horizontal_overflow(page)
    if device == "phone":
        screenshot(page, "me-proposal-confirm-phone.png")
    assert PersonalDetail.objects.get(person=eva, name="first_name").value == "Eva"
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, replace it").click()
    expect(page.get_by_role("status")).to_contain_text("First name is now EVA MARIA, verified.")
    expect(details.get_by_role("row", name="First name")).to_contain_text("EVA MARIA")
    expect(details.get_by_role("row", name="First name")).to_contain_text("by Onfido on")

    # Keeping one's own: the proposal goes, nothing changes.
    with page.expect_navigation():
        proposals.locator('[data-detail="document_number"]').get_by_role("button", name="Keep mine").click()
    expect(page.get_by_role("status")).to_contain_text("Dismissed")
    assert not PersonalDetail.objects.filter(person=eva, name="document_number").exists()
    # Left: gender and the document's type, issuing country and expiry date.
    assert DetailProposal.objects.filter(person=eva, status="pending").count() == 4
    first = PersonalDetail.objects.get(person=eva, name="first_name")
    assert (first.value, first.source) == ("EVA MARIA", DetailSource.VERIFIED)


@pytest.mark.parametrize("options", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_proposed_updates_work_without_javascript_in_spanish(browser, transactional_db, live_server, options):
    eva = _world()
    context = browser.new_context(**options, locale="es-ES", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _sign_in(
            page, live_server, email_label="Correo electrónico", password_label="Contraseña", button="Iniciar sesión"
        )
        proposals = page.locator("section#proposals")
        expect(proposals.get_by_role("heading", level=2)).to_contain_text("Cambios propuestos en tus datos")
        expect(proposals).to_contain_text("Verificado por Onfido para Acme Bank el")
        proposals.locator('[data-detail="document_expiry"]').get_by_role("link", name="Revisar y confirmar").click()
        with page.expect_navigation():
            page.get_by_role("button", name="Sí, añadirlo").click()
        expect(page.get_by_role("status")).to_contain_text("ahora es 2031-06-30, verificado")
        assert PersonalDetail.objects.get(person=eva, name="document_expiry").source == DetailSource.VERIFIED
    finally:
        context.close()
