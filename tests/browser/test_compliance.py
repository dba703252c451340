"""A compliance officer in a real browser: finds a person by name, reviews an inconclusive case
with a reason; every changelist fits 1280 px with demo data."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from apps.audit.services import Actor, transition_apply
from apps.identities.services import identity_activate
from apps.organizations.models import Membership, Organization
from apps.people.models import User
from apps.portal.management.commands.seed_demo import ORG_SLUG
from apps.verifications.models import ProcessReview, ReviewDecision, VerificationProcess
from apps.verifications.services import process_create
from tests.browser.conftest import STRONG_PASSWORD, admin_sign_in
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.browser

ONFIDO_INCONCLUSIVE = {
    "facialSimilarity": {"result": "consider", "similarityScore": "high"},
    "documentVerification": {
        "result": "consider",
        "subResult": "suspected",
        "firstName": "LAERKE OEYVOR AASE",
        "lastName": "SPECIMEN",
        "documentType": "passport",
        "nationality": "NOR",
        "issuingCountry": "NOR",
        "gender": "F",
        "dateOfBirth": "2002-04-29",
    },
}


def _staff(email: str, organization=None, *, role: str = "operator", superuser: bool = False) -> User:
    user = User.objects.create_user(email, STRONG_PASSWORD, is_staff=True, is_superuser=superuser)
    if role:
        user.groups.add(Group.objects.get(name=role))
    if organization is not None:
        Membership.objects.create(organization=organization, user=user)
    return user


def _inconclusive(organization, identity) -> VerificationProcess:
    process = process_create(
        organization=organization,
        provider="onfido",
        process_type="documentSelfie",
        identity=identity,
        actor=Actor.system("test"),
    )
    VerificationProcess.objects.filter(pk=process.pk).update(provider_specific=ONFIDO_INCONCLUSIVE)
    return transition_apply(
        VerificationProcess.objects.get(pk=process.pk),
        "finish",
        actor=Actor.provider("onfido"),
        status="inconclusive",
        final_result=None,
    )


def test_an_officer_finds_a_person_by_name_and_reviews_an_inconclusive_case(desktop, live_server, screenshot):
    page = desktop
    acme = OrganizationFactory(slug="acme", name="Acme Bank")
    globex = OrganizationFactory(slug="globex", name="Globex")
    lucia = identity_activate(
        identity=make_identity(acme, email="lucia@example.com", first_name="Lucía", last_name="Núñez Gómez"),
        person=make_person("lucia@example.com"),
    )
    make_identity(acme, email="luis@example.com", first_name="Luis", last_name="Gómez")
    make_identity(globex, email="lucia2@example.com", first_name="Lucía", last_name="Núñez")
    process = _inconclusive(acme, lucia)
    _staff("officer@example.com", acme)

    admin_sign_in(page, live_server.url, "officer@example.com")
    page.goto(f"{live_server.url}/admin/identities/externalpersonalidentity/")
    page.locator("#searchbar").fill("lucia nunez")
    page.locator("#searchbar").press("Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)  # every word, accents ignored, only this organization's people
    expect(rows.first).to_contain_text("Lucía Núñez Gómez")

    page.goto(f"{live_server.url}/admin/verifications/processreview/")
    expect(page.locator("#result_list")).to_contain_text("Waiting for a reviewer")
    screenshot(page, "admin-review-queue.png")
    page.locator("#result_list").get_by_role("link", name="onfido documentSelfie").click()
    page.get_by_role("button", name="Assign to me").click()
    page.get_by_label("Reason").fill("Taking the morning queue")
    page.get_by_role("button", name="Yes: Assign to me").click()
    expect(page.locator(".messagelist")).to_contain_text("assigned to you")
    expect(page.locator(".backoffice-summary")).to_contain_text("Facial similarity: consider")
    expect(page.locator(".backoffice-summary")).to_contain_text("Norway")
    screenshot(page, "admin-review-summary.png")

    page.get_by_role("button", name="Reject the verification").click()
    page.get_by_role("button", name="Yes: Reject the verification").click()  # no reason: the form refuses
    assert "/transition/reject/" in page.url
    assert ProcessReview.objects.get(process=process).decision == ""
    page.get_by_label("Reason").fill("The document is flagged as suspected; the face check did not match")
    page.get_by_role("button", name="Yes: Reject the verification").click()
    expect(page.locator(".messagelist")).to_contain_text("Review decided: rejected by staff")
    trail = page.locator(".inline-group", has_text="Audit trail")
    expect(trail).to_contain_text("you (officer@example.com)")
    expect(trail).to_contain_text("The document is flagged as suspected")

    review = ProcessReview.objects.get(process=process)
    assert review.decision == ReviewDecision.REJECTED


# The admin wraps the results table in `.results`, which scrolls sideways (overflow-x: auto), so
# the page's own width never grows: a wide table is clipped instead. What staff see is the part of
# the table inside that container, itself inside the window.
RESULTS_WIDTHS = """() => {
  const table = document.querySelector('#result_list');
  if (!table) return null;
  const box = table.closest('.results') || table.parentElement;
  const edge = box.getBoundingClientRect().left + box.clientLeft + box.clientWidth;
  return {
    table: Math.ceil(table.getBoundingClientRect().width),
    tableRight: Math.ceil(table.getBoundingClientRect().right),
    visibleRight: Math.floor(Math.min(edge, document.documentElement.clientWidth)),
    scrollWidth: box.scrollWidth,
    clientWidth: box.clientWidth,
  };
}"""


def _rows_the_demo_leaves_out() -> None:
    """One row, with long machine values (URLs, keys, errors), in each list seed_demo leaves empty."""
    from oauth2_provider.models import get_application_model

    from apps.api.models import IdempotencyRecord
    from apps.identifications.models import OtpIdentification, OtpMessage
    from apps.organizations.models import ApiKey
    from apps.verifications.models import ProviderConnection, ProviderRun
    from apps.webhooks.models import Delivery, DeliveryAttempt, Event, NotificationSecret, WebhookEndpoint

    organization = Organization.objects.get(slug=ORG_SLUG)
    url = "https://hooks.demo-bank.example.com/identity-portal/webhooks/v2/events"
    WebhookEndpoint.objects.create(
        organization=organization, url=url, events=["webhook.ping"], secret="whsec_dGVzdA==", description="Core banking"
    )
    delivery = Delivery.objects.create(
        event=Event.objects.filter(organization=organization).first(), organization=organization, url=url
    )
    DeliveryAttempt.objects.create(
        delivery=delivery,
        number=1,
        status_code=503,
        duration_ms=10_000,
        error="HTTPSConnectionPool(host='hooks.demo-bank.example.com', port=443): Read timed out. (read timeout=10)",
    )
    NotificationSecret.objects.create(organization=organization, secret="whsec_dGVzdA==", rotated_at=timezone.now())
    connection = ProviderConnection.objects.create(organization=organization, provider="onfido", settings={})
    ProviderRun.objects.create(
        process=VerificationProcess.objects.filter(organization=organization).first(),
        connection=connection,
        reference="8f4c2a7e-1b3d-4e5f-9a6b-0c1d2e3f4a5b",
        url="https://eu.onfido.app/l/8f4c2a7e-1b3d-4e5f-9a6b-0c1d2e3f4a5b",
    )
    OtpMessage.objects.create(
        identification=OtpIdentification.objects.filter(organization=organization).first(),
        kind="CODE",
        channel="SMS",
        destination="+34600000000",
        status="FAILED",
        error="The SMS gateway refused the number (InvalidDestinationAddress)",
    )
    IdempotencyRecord.objects.create(
        api_key=ApiKey.objects.filter(organization=organization).first(),
        key="9b2f5d4e-7c1a-4b8e-a3f6-2d9c0e1b5a7f",
        fingerprint="0" * 64,
        status_code=201,
    )
    get_application_model().objects.create(
        name="Demo Bank mobile app",
        client_id="kX9pQ2vN7rT4wY6zB1cD3fG5hJ8mL0sA2uE4iO6",
        client_type="public",
        authorization_grant_type="authorization-code",
        redirect_uris="https://app.demo-bank.example.com/callback",
        allowed_scopes="openid profile email first_name last_name",
    )


def _changelist_overflows(page, base_url: str) -> tuple[int, list[str], list[str]]:
    """Visit every registered model's changelist; return how many were lists, what overflowed and
    which lists had no rows to measure."""
    checked, wide, empty = 0, [], []
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page.goto(f"{base_url}{url}")
        if page.locator("#changelist").count() == 0:
            continue
        checked += 1
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 1280:
            wide.append(f"{url}: the page is {width}px wide")
        results = page.evaluate(RESULTS_WIDTHS)
        if results is None:
            empty.append(url)
        elif results["tableRight"] > results["visibleRight"] or results["scrollWidth"] > results["clientWidth"]:
            wide.append(
                f"{url}: the table is {results['table']}px wide (scrollWidth {results['scrollWidth']}px)"
                f" in {results['clientWidth']}px, {results['tableRight'] - results['visibleRight']}px clipped"
            )
        first_header = page.locator("#result_list thead th:not(.action-checkbox-column)").first
        if first_header.count():
            assert first_header.inner_text().strip().lower() not in ("id", "processid", "session_id"), url
    return checked, wide, empty


def test_every_changelist_fits_1280_px_with_demo_data(desktop, live_server):
    """Every column of every list is visible at 1280x800 with the navigation sidebar open, with no
    sideways scrolling, in English and in Spanish (whose labels are longer)."""
    page = desktop
    call_command("seed_demo", verbosity=0)
    _rows_the_demo_leaves_out()
    _staff("root@example.com", None, role="", superuser=True)
    admin_sign_in(page, live_server.url, "root@example.com")

    checked, wide, empty = _changelist_overflows(page, live_server.url)
    # The language cookie Django's language selector sets (the context's Accept-Language is en-GB).
    page.context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "es", "url": live_server.url}])
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("html").get_attribute("lang") == "es"
    _, wide_es, _ = _changelist_overflows(page, live_server.url)

    assert checked >= 21 and empty == [], empty
    assert wide == [], "\n".join(wide)
    assert wide_es == [], "in Spanish:\n" + "\n".join(wide_es)
