"""An operator in the back office: signs in, filters a list, opens an object, runs an FSM
transition (deactivate; cancel with a reason) and sees it in the object's audit trail."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from playwright.sync_api import expect

from apps.audit.services import Actor
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identity_activate
from apps.organizations.models import Membership
from apps.people.models import User
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_create
from tests.browser.conftest import STRONG_PASSWORD, admin_sign_in
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.browser


def _operator(organization) -> User:
    user = User.objects.create_user("operator@example.com", STRONG_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="operator"))
    Membership.objects.create(organization=organization, user=user)
    return user


def _sign_in(page, live_server, email: str) -> None:
    admin_sign_in(page, live_server.url, email)


def test_an_operator_filters_opens_and_acts_with_the_audit_trail(desktop, live_server, screenshot):
    page = desktop
    acme = OrganizationFactory(slug="acme", name="Acme Bank")
    globex = OrganizationFactory(slug="globex", name="Globex")
    for email, first, last in (("ana@example.com", "Ana", "García"), ("bram@example.com", "Bram", "de Vries")):
        identity_activate(
            identity=make_identity(acme, email=email, first_name=first, last_name=last), person=make_person(email)
        )
    make_identity(acme, email="carla@example.com", first_name="Carla", last_name="Rossi")
    make_identity(globex, email="gus@example.com", first_name="Gus", last_name="Outsider")
    operator = _operator(acme)

    _sign_in(page, live_server, "operator@example.com")
    page.goto(f"{live_server.url}/admin/identities/externalpersonalidentity/")
    expect(page.locator("#result_list")).to_contain_text("Carla Rossi")
    expect(page.locator("#result_list")).not_to_contain_text("Gus Outsider")
    page.locator("#changelist-filter").get_by_role("link", name="Active", exact=True).click()
    expect(page.locator("#result_list")).not_to_contain_text("Carla Rossi")
    expect(page.locator("#result_list tbody tr")).to_have_count(2)
    expect(page.get_by_role("link", name="Export CSV")).to_have_attribute(
        "href", "/admin/identities/externalpersonalidentity/export-csv/?state__exact=ACTIVE"
    )
    screenshot(page, "admin-changelist.png")

    page.locator("#result_list").get_by_role("link", name="Ana García (Active)").click()
    expect(page.get_by_role("button", name="Deactivate")).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate")).to_have_count(0)
    page.get_by_role("button", name="Deactivate").click()
    page.get_by_label("Reason").fill("The contract ended")
    page.get_by_role("button", name="Yes: Deactivate").click()

    expect(page.locator(".messagelist")).to_contain_text("“Deactivate” done")
    trail = page.locator(".inline-group", has_text="Audit trail")
    last_row = trail.locator("tbody tr.has_original, tbody tr.form-row").last
    expect(last_row).to_contain_text("DEACTIVATED")
    # The actor as staff see it: their own email, never an account id.
    expect(last_row).to_contain_text("you (operator@example.com)")
    expect(last_row).not_to_contain_text(str(operator.pk))
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    (deactivated,) = ExternalPersonalIdentity.objects.filter(state="DEACTIVATED")
    assert deactivated.email_address == "ana@example.com"

    page.goto(f"{live_server.url}/admin/identities/externalpersonalidentity/?state__exact=INVITED")
    page.locator("#result_list").get_by_role("link", name="Carla Rossi (Invited)").click()
    mail.outbox.clear()
    page.get_by_role("button", name="Resend the invitation (asks for a reason)").click()
    page.get_by_label("Reason").fill("The first email bounced")
    page.get_by_role("button", name="Yes, I am sure").click()
    expect(page.locator(".messagelist")).to_contain_text("1 invitation sent again")
    screenshot(page, "admin-object-tools.png")
    assert [m.to for m in mail.outbox] == [["carla@example.com"]]

    process = process_create(
        organization=acme, provider="onfido", process_type="documentSelfie", actor=Actor.system("test")
    )
    page.goto(f"{live_server.url}/admin/verifications/verificationprocess/{process.pk}/change/")
    page.get_by_role("button", name="Cancel", exact=True).click()
    page.get_by_label("Reason").fill("The customer called to stop it")
    page.get_by_role("button", name="Yes: Cancel").click()

    expect(page.locator(".messagelist")).to_contain_text("“Cancel” done")
    trail = page.locator(".inline-group", has_text="Audit trail")
    expect(trail).to_contain_text("The customer called to stop it")
    expect(trail).to_contain_text("canceled")
    screenshot(page, "admin-object.png")
    assert VerificationProcess.objects.get(pk=process.pk).status == "canceled"


def test_a_new_staff_member_enrols_an_authenticator_then_signs_in_with_its_code(desktop, live_server, screenshot):
    from base64 import b32decode

    from apps.backoffice.second_factor import second_factor_device
    from tests.factories import totp_code, totp_code_for_key

    page = desktop
    operator = _operator(OrganizationFactory(slug="acme", name="Acme Bank"))

    # The first sign-in: the password, then the enrolment page with the QR code and the key.
    page.goto(f"{live_server.url}/admin/verifications/verificationprocess/")
    page.locator("#id_username").fill("operator@example.com")
    page.locator("#id_password").fill(STRONG_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    assert "/admin/second-factor/" in page.url
    expect(page.locator(".backoffice-qr svg")).to_be_visible()
    screenshot(page, "admin-second-factor-enrolment.png")
    assert page.goto(f"{live_server.url}/admin/").url.startswith(f"{live_server.url}/admin/second-factor/")

    key = b32decode(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.locator("#id_otp_token").fill("000000" if totp_code_for_key(key) != "000000" else "111111")
    with page.expect_navigation():
        page.locator("#second-factor-form [type=submit]").click()
    expect(page.locator(".errorlist")).to_contain_text("That code is not right")
    page.wait_for_timeout(1200)  # django-otp holds a device off for 1 s after one wrong code
    page.locator("#id_otp_token").fill(totp_code_for_key(key))
    with page.expect_navigation():
        page.locator("#second-factor-form [type=submit]").click()
    expect(page.locator("#backup-codes li")).to_have_count(10)
    with page.expect_navigation():
        page.get_by_role("link", name="Continue to the back office").click()
    assert page.url == f"{live_server.url}/admin/"  # where the last refused page asked to go
    assert second_factor_device(user=operator).confirmed

    # Signed out, the next sign-in asks for a code and no longer shows the key.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/admin/login/")
    page.locator("#id_username").fill("operator@example.com")
    page.locator("#id_password").fill(STRONG_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    expect(page.locator("#totp-secret")).to_have_count(0)
    page.locator("#id_otp_token").fill(totp_code(second_factor_device(user=operator)))
    with page.expect_navigation():
        page.locator("#second-factor-form [type=submit]").click()
    expect(page.locator("#site-name")).to_contain_text("Identity Portal back office")
