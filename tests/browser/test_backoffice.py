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
from tests.browser.conftest import STRONG_PASSWORD
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.browser


def _operator(organization) -> User:
    user = User.objects.create_user("operator@example.com", STRONG_PASSWORD, is_staff=True)
    user.groups.add(Group.objects.get(name="operator"))
    Membership.objects.create(organization=organization, user=user)
    return user


def _sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/admin/")
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(STRONG_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


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

    page.locator("#result_list").get_by_role("link", name="Ana García (ACTIVE)").click()
    expect(page.get_by_role("button", name="Deactivate")).to_be_visible()
    expect(page.get_by_role("button", name="Reactivate")).to_have_count(0)
    page.get_by_role("button", name="Deactivate").click()

    expect(page.locator(".messagelist")).to_contain_text("Deactivate: done.")
    trail = page.locator(".inline-group", has_text="Audit trail")
    last_row = trail.locator("tbody tr.has_original, tbody tr.form-row").last
    expect(last_row).to_contain_text("DEACTIVATED")
    expect(last_row).to_contain_text(f"user {operator.pk}")
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    (deactivated,) = ExternalPersonalIdentity.objects.filter(state="DEACTIVATED")
    assert deactivated.email_address == "ana@example.com"

    page.goto(f"{live_server.url}/admin/identities/externalpersonalidentity/?state__exact=INVITED")
    page.locator("#result_list").get_by_role("link", name="Carla Rossi (INVITED)").click()
    mail.outbox.clear()
    page.get_by_role("button", name="Resend the invitation").click()
    expect(page.locator(".messagelist")).to_contain_text("Invitation resent: 1 done.")
    screenshot(page, "admin-object-tools.png")
    assert [m.to for m in mail.outbox] == [["carla@example.com"]]

    process = process_create(
        organization=acme, provider="onfido", process_type="documentSelfie", actor=Actor.system("test")
    )
    page.goto(f"{live_server.url}/admin/verifications/verificationprocess/{process.pk}/change/")
    page.get_by_role("button", name="Cancel", exact=True).click()
    page.get_by_label("Reason").fill("The customer called to stop it")
    page.get_by_role("button", name="Apply").click()

    expect(page.locator(".messagelist")).to_contain_text("Cancel: done.")
    trail = page.locator(".inline-group", has_text="Audit trail")
    expect(trail).to_contain_text("The customer called to stop it")
    expect(trail).to_contain_text("canceled")
    screenshot(page, "admin-object.png")
    assert VerificationProcess.objects.get(pk=process.pk).status == "canceled"
