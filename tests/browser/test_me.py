"""A person's own portal in the browser: details with provenance, editing self-declared ones,
revoking a sharing, switching to Spanish, and deleting the account; on a phone without sideways
scrolling, and without JavaScript."""

from __future__ import annotations

import uuid
from datetime import timedelta
from itertools import pairwise

import pytest
from playwright.sync_api import expect

from apps.activities.models import Activity, ActivityStatus, ActivityType
from apps.activities.services import activity_accept, activity_create
from apps.audit.services import Actor
from apps.identities.services import identity_activate
from apps.people.models import DetailSource, PersonalDetail, User
from apps.people.services import person_set_details
from tests.browser.conftest import DESKTOP, PHONE, assert_no_horizontal_overflow
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-9"
PROCESS_ID = uuid.UUID("0d9c7a52-3b1e-4f0e-8a57-6f1d2b9c4e21")


def _world() -> tuple[User, Activity]:
    """Eva, with self-declared and verified details, sharing two of them with the bank."""
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    bank = make_identity(org, email="bruno@acme.example", first_name="Bruno", last_name="Banker")
    identity_activate(identity=bank, person=make_person("bruno@acme.example", first_name="Bruno"))
    eva = make_person("eva@example.com", password=PASSWORD, first_name="Eva", nationality="NLD")
    person_set_details(
        person=eva,
        details={"last_name": "Smit", "date_of_birth": "1985-12-24"},
        source=DetailSource.VERIFIED,
        process_id=str(PROCESS_ID),
        provider="onfido",
    )
    me = identity_activate(identity=make_identity(org, email="eva@example.com", managed=False), person=eva)
    activity = activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=bank.pk,
        receptor_id=me.pk,
        requirements=[{"detail": "first_name", "required": True}, {"detail": "last_name", "required": True}],
        purpose="Open a savings account",
        actor=Actor.system("test"),
    )
    activity = activity_accept(activity=activity, sharing_period=timedelta(days=30), actor=Actor.user(eva))
    return eva, activity


def _sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("eva@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main").get_by_role("button", name="Sign in").click()
    assert page.url == f"{live_server.url}/me/"


def _switch_language(page, name: str, button: str) -> None:
    page.get_by_label("Language" if name == "Español" else "Idioma").select_option(label=name)
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_a_person_sees_edits_revokes_and_deletes_everything(request, device, live_server, screenshot):
    page = request.getfixturevalue(device)
    eva, activity = _world()
    _sign_in(page, live_server)

    # Profile: every detail with where it comes from.
    details = page.locator("section", has=page.get_by_role("heading", name="My personal details"))
    verified = details.get_by_role("row", name="Last name")
    expect(verified).to_contain_text("Smit")
    expect(verified).to_contain_text("Verified")
    expect(verified).to_contain_text("by Onfido on")
    expect(verified).not_to_contain_text(str(PROCESS_ID))  # no process ids on a person's page
    expect(details.get_by_role("row", name="First name")).to_contain_text("Self-declared")
    sharing = page.locator("section", has=page.get_by_role("heading", name="Shared now"))
    expect(sharing).to_contain_text("With Bruno Banker")
    expect(sharing.locator(".time-left")).to_contain_text("left")
    assert_no_horizontal_overflow(page)
    if device == "phone":
        screenshot(page, "me-profile-phone.png")
    if device == "desktop":
        screenshot(page, "me-profile.png")
        page.goto(f"{live_server.url}/me/delete/")
        expect(page.locator(".consequences")).to_contain_text("the 1 sharing that is active now ends")
        screenshot(page, "me-delete.png")
        page.goto(f"{live_server.url}/me/")

    # Edit a self-declared detail; the verified ones are read-only.
    page.get_by_role("link", name="Edit my details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Edit my details")
    expect(page.get_by_label("Last name")).to_be_disabled()
    assert_no_horizontal_overflow(page)
    page.get_by_label("Phone number").fill("call me")
    page.get_by_role("button", name="Save my details").click()
    expect(page.get_by_role("alert").first).to_contain_text("Some details could not be saved")
    expect(page.locator("#id_phone_error")).to_have_text(
        "Enter the number in international form, for example +34600000000."
    )
    page.get_by_label("First name").fill("Eva María")
    page.get_by_label("Phone number").fill("+34 600 111 222")
    with page.expect_navigation():
        page.get_by_role("button", name="Save my details").click()
    expect(page.get_by_role("status")).to_contain_text("Your details have been saved.")
    expect(details.get_by_role("row", name="First name")).to_contain_text("Eva María")
    expect(details.get_by_role("row", name="Phone number")).to_contain_text("+34600111222")
    assert PersonalDetail.objects.get(person=eva, name="last_name").source == DetailSource.VERIFIED

    # Revoke the sharing.
    sharing.get_by_role("link", name="End sharing…").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, end the sharing").click()
    expect(page.get_by_role("status")).to_contain_text("The sharing with Bruno Banker has ended.")
    expect(sharing).to_contain_text("You are not sharing anything right now.")
    assert Activity.objects.get(pk=activity.pk).status == ActivityStatus.EXPIRED

    # In Spanish, then back.
    _switch_language(page, "Español", "Change language")
    expect(page.get_by_role("heading", level=1)).to_have_text("Mi página")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("row", name="Apellidos")).to_contain_text("por Onfido el")
    assert_no_horizontal_overflow(page)
    if device == "desktop":
        screenshot(page, "me-profile-es.png")
    _switch_language(page, "English", "Cambiar idioma")
    expect(page.get_by_role("heading", level=1)).to_have_text("My page")

    # Delete the account: confirm with the password, then goodbye.
    page.get_by_role("link", name="Delete my account…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Delete my account")
    assert_no_horizontal_overflow(page)
    page.get_by_label("Your password").fill("not-my-password")
    page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_role("alert")).to_contain_text("That is not your password.")
    page.get_by_label("Your password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Delete my account for good").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Your account has been deleted")
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert not User.objects.filter(email_hash=eva.email_hash).exists()

    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill("eva@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.locator("main").get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert page.url.startswith(f"{live_server.url}/accounts/login/")


@pytest.mark.parametrize("options", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_the_portal_works_without_javascript(browser, transactional_db, live_server, options):
    eva, activity = _world()
    context = browser.new_context(**options, locale="es-ES", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")
        page.get_by_label("Correo electrónico").fill("eva@example.com")
        page.get_by_label("Contraseña").fill(PASSWORD)
        with page.expect_navigation():
            page.locator("main").get_by_role("button", name="Iniciar sesión").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Mi página")
        assert_no_horizontal_overflow(page)

        page.get_by_role("link", name="Editar mis datos").click()
        page.get_by_label("Nacionalidad").select_option(label="España")
        with page.expect_navigation():
            page.get_by_role("button", name="Guardar mis datos").click()
        expect(page.get_by_role("status")).to_contain_text("Tus datos se han guardado.")
        assert PersonalDetail.objects.get(person=eva, name="nationality").value == "ESP"

        page.get_by_role("link", name="Dejar de compartir…").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("¿Dejar de compartir?")
        with page.expect_navigation():
            page.get_by_role("button", name="Sí, dejar de compartir").click()
        expect(page.get_by_role("status")).to_contain_text("Has dejado de compartir con Bruno Banker.")
        assert Activity.objects.get(pk=activity.pk).status == ActivityStatus.EXPIRED
    finally:
        context.close()


def test_focus_is_visible_on_keyboard_navigation(desktop, live_server):
    _world()
    _sign_in(desktop, live_server)
    desktop.keyboard.press("Tab")  # the skip link comes first
    focused = desktop.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to content"
    outline = desktop.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


UNLABELLED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(el => el.type !== 'hidden')
  .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label') && !el.textContent.trim())
  .map(el => el.outerHTML)"""
HEADING_LEVELS = "() => [...document.querySelectorAll('h1, h2, h3, h4, h5, h6')].map(h => Number(h.tagName[1]))"


@pytest.mark.parametrize("path", ["/me/", "/me/details/", "/me/delete/", "/me/deleted/"])
def test_every_control_is_labelled_and_headings_do_not_skip_levels(desktop, live_server, path):
    _world()
    _sign_in(desktop, live_server)
    desktop.goto(f"{live_server.url}{path}")

    assert desktop.evaluate(UNLABELLED_CONTROLS) == []
    levels = desktop.evaluate(HEADING_LEVELS)
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in pairwise(levels)), levels
