"""The actor's OTP identification page in a real browser, with the code read from the email file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from apps.audit.services import Actor
from apps.identifications.links import identification_url
from apps.identifications.models import OtpIdentification
from apps.identifications.services import ActorData, identification_create, identification_send_link
from tests.browser.conftest import PHONE, assert_no_horizontal_overflow
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.browser


def _code_from_mail(folder: Path) -> str:
    codes = [
        match.group(1)
        for path in sorted(folder.iterdir())
        if (match := re.search(r"code for .* is (\d{6})", path.read_text()))
    ]
    assert codes, [p.read_text() for p in folder.iterdir()]
    return codes[-1]


def test_it_identifies_the_actor_with_a_code_and_the_document_number(
    phone, live_server, screenshot, settings, tmp_path
):
    from datetime import timedelta

    settings.PUBLIC_BASE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    identification = identification_create(
        organization=org,
        actor_data=ActorData(name="Ana", surname="García", email="ana@example.com", document_number="12345678Z"),
        channel="EMAIL",
        two_factor_type="DOCUMENT_NUMBER",
        expires_in=timedelta(days=1),
        actor=Actor.system("test"),
    )
    identification_send_link(identification=identification)

    page_url = identification_url(identification)
    phone.goto(page_url)
    assert "Acme Bank asks you to confirm your identity" in phone.inner_text("h1")
    # Opening the page is no act: the first code request starts the identification.
    assert OtpIdentification.objects.get(pk=identification.pk).status == "CREATED"
    phone.get_by_role("button", name="Send me a code").click()
    assert phone.url == page_url + "?sent=1"  # POST/redirect/GET: a reload sends nothing again
    assert OtpIdentification.objects.get(pk=identification.pk).status == "IN_PROGRESS"
    phone.get_by_label("One-time code").fill(_code_from_mail(tmp_path))
    screenshot(phone, "identification-phone.png")
    phone.get_by_role("button", name="Confirm the code").click()
    assert phone.url == page_url
    phone.get_by_label("Your document number").fill("12345678Z")
    phone.get_by_role("button", name="Confirm", exact=True).click()

    assert phone.url == page_url
    assert "You are identified" in phone.inner_text("main")
    assert_no_horizontal_overflow(phone)
    assert OtpIdentification.objects.get(pk=identification.pk).status == "IDENTIFIED"


def test_the_page_works_without_javascript_in_spanish_with_errors_by_their_field(
    browser, transactional_db, live_server, settings, tmp_path
):
    from datetime import timedelta

    from playwright.sync_api import expect

    settings.PUBLIC_BASE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path)
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    identification = identification_create(
        organization=org,
        actor_data=ActorData(name="Ana", surname="García", email="ana@example.com", document_number="12345678Z"),
        channel="EMAIL",
        two_factor_type="DOCUMENT_NUMBER",
        expires_in=timedelta(days=1),
        actor=Actor.system("test"),
    )
    context = browser.new_context(**PHONE, locale="es-ES", java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        page.goto(identification_url(identification))
        expect(page.get_by_role("heading", level=1)).to_have_text("Acme Bank te pide que confirmes tu identidad")
        with page.expect_navigation():
            page.get_by_role("button", name="Enviarme un código").click()
        right = _code_from_mail(tmp_path)
        page.get_by_label("Código de un solo uso").fill(f"{(int(right) + 1) % 10**6:06d}")
        with page.expect_navigation():
            page.get_by_role("button", name="Confirmar el código").click()
        # The wrong answer is said by the field it is about, in the page's language.
        expect(page.locator("#id_code_error")).to_have_text("Ese código no es correcto. Te quedan 4 intentos.")
        assert_no_horizontal_overflow(page)

        page.get_by_label("Código de un solo uso").fill(right)
        with page.expect_navigation():
            page.get_by_role("button", name="Confirmar el código").click()
        page.get_by_label("Tu número de documento").fill("12345678Z")
        with page.expect_navigation():
            page.get_by_role("button", name="Confirmar", exact=True).click()
        expect(page.get_by_role("heading", level=2)).to_have_text("Te has identificado")
    finally:
        context.close()
    assert OtpIdentification.objects.get(pk=identification.pk).status == "IDENTIFIED"
