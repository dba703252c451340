"""A Spanish-speaking person answers a request on the consent screen: no code, no UUID, no English,
times in her own time zone; a missing detail leads to the detail form and back; declining asks
first."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from apps.activities.models import Activity, ActivityStatus
from apps.activities.services import activity_create
from apps.audit.services import Actor
from apps.identities.services import identity_activate
from apps.people.services import person_set_details
from tests.browser.conftest import DESKTOP
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-9"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture
def spanish(browser, transactional_db, live_server):
    """A desktop browser that speaks Spanish and lives in Madrid."""
    context = browser.new_context(**DESKTOP, locale="es-ES", timezone_id="Europe/Madrid")
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


def _request() -> Activity:
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    bank = make_identity(org, email="bruno@acme.example", first_name="Bruno", last_name="Banker", managed=True)
    identity_activate(identity=bank, person=make_person("bruno@acme.example", first_name="Bruno"))
    lucia = make_person("lucia@example.com", password=PASSWORD)
    person_set_details(
        person=lucia,
        details={"first_name": "Lucía", "nationality": "NLD", "gender": "F", "document_type": "identityCard"},
    )
    me = identity_activate(identity=make_identity(org, email="lucia@example.com", managed=False), person=lucia)
    return activity_create(
        organization=org,
        type="AT_001",
        initiator_id=bank.pk,
        receptor_id=me.pk,
        requirements=[
            {"detail": "nationality", "required": True},
            {"detail": "gender", "required": False},
            {"detail": "document_type", "required": False},
            {"detail": "document_number", "required": True},
        ],
        purpose="Abrir una cuenta",
        actor=Actor.system("test"),
    )


def _sign_in(page, live_server) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("input[name=username]").fill("lucia@example.com")
    page.locator("input[name=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()


def test_a_spanish_person_meets_no_code_and_finds_the_missing_detail(spanish, live_server, screenshot):
    page = spanish
    activity = _request()
    _sign_in(page, live_server)
    page.goto(f"{live_server.url}/me/")  # the browser's time zone cookie is set from here on
    page.get_by_role("link", name="Bruno Banker te pide tus datos", exact=True).click()

    main = page.get_by_role("main")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bruno Banker te pide tus datos")
    for human in ("Países Bajos", "Mujer", "Documento de identidad", "Número de documento"):
        expect(main).to_contain_text(human)
    text = main.inner_text()
    for code in ("NLD", "identityCard", "document_number", "AT_001", "UTC", "Accept", "Decline"):
        assert code not in text, code
    assert not UUID.search(text)
    assert re.search(r"\d{1,2} de \w+ de \d{4}, \d\d:\d\d CET", text), text
    # A required detail is missing: accepting is not possible, adding it is.
    expect(page.get_by_role("button", name="Aceptar y compartir")).to_be_disabled()
    screenshot(page, "consent-missing-detail-es.png")

    page.get_by_role("link", name="Añadir los datos que faltan").click()
    expect(page.get_by_role("link", name="Volver a la solicitud")).to_be_visible()
    expect(page.get_by_label("Nacionalidad")).to_have_value("NLD")
    page.get_by_label("Número de documento").fill("X1234567")
    with page.expect_navigation():
        page.get_by_role("button", name="Guardar y volver a la solicitud").click()

    assert page.url.split("#")[0] == f"{live_server.url}/me/activities/{activity.pk}/"
    expect(page.get_by_role("status")).to_contain_text("Ya puedes responder a la solicitud.")
    expect(page.get_by_role("button", name="Aceptar y compartir")).to_be_enabled()
    expect(main).to_contain_text("X1234567")

    # Declining asks first, on a page of its own.
    page.get_by_role("button", name="Rechazar…").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("¿Rechazar esta solicitud?")
    assert Activity.objects.get(pk=activity.pk).status == ActivityStatus.PENDING
    screenshot(page, "consent-confirm-decline-es.png")
    with page.expect_navigation():
        page.get_by_role("button", name="Sí, rechazar").click()
    assert page.url == f"{live_server.url}/me/"
    expect(page.get_by_role("region", name="Historial")).to_contain_text("Rechazada")
    assert Activity.objects.get(pk=activity.pk).status == ActivityStatus.DECLINED
