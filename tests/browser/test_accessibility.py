"""Accessibility (issue 18): axe-core finds no serious or critical violation on any page a person or
staff member sees, in English and in Spanish, and the keyboard focus ring stands out from what is
behind it (at least 3:1, WCAG 1.4.11).

The pages are the demo's (seed_demo): a public visitor's, Ana's own and a superuser's back office.
One browser context per language; the language comes from the browser (Accept-Language) as for
any visitor, and every page must say it in <html lang>.
"""

from __future__ import annotations

import io
import re
import uuid
from base64 import b32decode
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.management import call_command
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.activities.models import Activity, ActivityType, ConsentReceipt
from apps.activities.services import activity_accept, activity_create
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.core.crypto import lookup_hash
from apps.identifications.links import identification_url
from apps.identifications.models import OtpIdentification
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.organizations.models import Organization
from apps.people.models import DetailProposal, User
from apps.transfers.services import session_create
from apps.verifications.links import process_url
from apps.verifications.models import ProcessReview, VerificationProcess
from tests.browser.conftest import DESKTOP, REPOSITORY
from tests.factories import totp_code, totp_code_for_key
from tests.oauth.flow import authorize_params, pkce_pair, register_app, sign_in_and_approve

pytestmark = pytest.mark.browser

BLOCKING = ("serious", "critical")
LOCALES = {"en": "en-GB", "es": "es-ES"}
FOCUS_RING_CONTRAST = 3.0
PERSON_PASSWORD = "demo-person-pass"  # seed_demo's
ADMIN_PASSWORD = "demo-admin-pass"  # seed_demo's

# Every focusable control on the page, focused in turn after one real Tab press (so each one
# matches :focus-visible as it would from the keyboard): its outline, and the colours behind it
# (the ring is drawn outside the control, over its ancestors' backgrounds), nearest first.
FOCUS_RINGS = """exclude => {
  const rgba = value => {
    const match = value.match(/rgba?\\(([^)]+)\\)/);
    if (!match) return null;
    const parts = match[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const selector = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
  const rings = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.disabled || !el.getClientRects().length || getComputedStyle(el).visibility !== 'visible') continue;
    if (exclude && el.closest(exclude)) continue;
    el.focus();
    if (document.activeElement !== el || !el.matches(':focus-visible')) continue;
    const style = getComputedStyle(el);
    const behind = [];
    for (let node = el.parentElement; node; node = node.parentElement) {
      const colour = rgba(getComputedStyle(node).backgroundColor);
      if (colour && colour[3] > 0) { behind.push(colour); if (colour[3] >= 1) break; }
    }
    rings.push({
      control: el.outerHTML.slice(0, 120),
      style: style.outlineStyle,
      width: parseFloat(style.outlineWidth) || 0,
      colour: rgba(style.outlineColor),
      behind,
    });
  }
  if (document.activeElement) document.activeElement.blur();
  return rings;
}"""


def _over(top: list[float], bottom: list[float]) -> list[float]:
    alpha = top[3]
    return [top[i] * alpha + bottom[i] * (1 - alpha) for i in range(3)] + [1.0]


def _luminance(colour: list[float]) -> float:
    def channel(value: float) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(value) for value in colour[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(first: list[float], second: list[float]) -> float:
    """WCAG's contrast ratio of two opaque colours."""
    lighter, darker = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def _backdrop(layers: list[list[float]]) -> list[float]:
    colour = [255.0, 255.0, 255.0, 1.0]  # the canvas under everything
    for layer in reversed(layers):
        colour = _over(layer, colour)
    return colour


def _hex(value: str) -> list[float]:
    return [float(int(value[i : i + 2], 16)) for i in (1, 3, 5)] + [1.0]


def test_the_portal_focus_colour_stands_out_on_its_backgrounds():
    """The stylesheet's own promise, without a browser: --focus against the page and card colours."""
    css = (REPOSITORY / "static" / "css" / "portal.css").read_text()
    colours = dict(re.findall(r"--([a-z-]+):\s*(#[0-9a-f]{6})", css))

    for background in ("bg", "surface"):
        assert contrast(_hex(colours["focus"]), _hex(colours[background])) >= FOCUS_RING_CONTRAST, background
    assert round(contrast(_hex("#000000"), _hex("#ffffff")), 2) == 21.0


class Audit:
    """Runs axe and the focus-ring check on the page as it is, and keeps what fails."""

    def __init__(self, page, language: str) -> None:
        from axe_playwright_python.sync_playwright import Axe

        self.page = page
        self.language = language
        self.axe = Axe()
        self.problems: list[str] = []

    def check(self, name: str, *, lang: str = "", exclude: str = "") -> None:
        """`lang`: the page's language when it is not the visitor's; `exclude`: a CSS selector of
        what neither axe nor the focus check looks at (each use says why)."""
        page = self.page
        where = f"{name} [{self.language}] {page.url}"
        expected = lang or self.language
        found = page.locator("html").get_attribute("lang") or ""
        if found.split("-")[0] != expected:
            self.problems.append(f"{where}: <html lang={found!r}>, expected {expected!r}")
        results = self.axe.run(page, context={"exclude": [[exclude]]} if exclude else None)
        for violation in results.response["violations"]:
            if violation["impact"] in BLOCKING:
                targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"])
                self.problems.append(
                    f"{where}: {violation['id']} ({violation['impact']}: {violation['help']}) at {targets}"
                    f" -- {violation['nodes'][0]['html'][:160]} {violation['nodes'][0].get('failureSummary')}"
                )
        page.keyboard.press("Tab")
        rings = page.evaluate(FOCUS_RINGS, exclude)
        if not rings and not exclude:
            self.problems.append(f"{where}: no control takes the keyboard focus visibly")
        for ring in rings:
            if ring["style"] == "none" or ring["width"] <= 0 or ring["colour"] is None:
                self.problems.append(f"{where}: no focus ring on {ring['control']}")
                continue
            backdrop = _backdrop(ring["behind"])
            ratio = contrast(_over(ring["colour"], backdrop), backdrop)
            if ratio < FOCUS_RING_CONTRAST:
                self.problems.append(f"{where}: focus ring contrast {ratio:.2f}:1 on {ring['control']}")

    def visit(self, url: str, name: str, status: int = 200, **kwargs: Any) -> None:
        response = self.page.goto(url)
        # The page meant, not a 404 or a sign-in page in its place.
        if response is None or response.status != status:
            self.problems.append(f"{name} {url}: HTTP {response and response.status}, expected {status}")
        self.check(name, **kwargs)

    def assert_clean(self) -> None:
        assert not self.problems, f"{len(self.problems)} accessibility problems:\n" + "\n".join(self.problems)


@pytest.fixture(params=list(LOCALES))
def audit(request, browser, transactional_db, live_server):
    language = request.param
    context = browser.new_context(**DESKTOP, locale=LOCALES[language])
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield Audit(page, language)
    context.close()


def _identity(organization: Organization, email: str) -> ExternalPersonalIdentity:
    return ExternalPersonalIdentity.objects.get(organization=organization, email_hash=lookup_hash(email))


def _demo(live_server, settings) -> SimpleNamespace:
    """seed_demo's world (its invitation to Carla is in the outbox), plus what it leaves out: a swap
    and a receipt for Ana, a transfer session with its token."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.ACTIVITIES_BIOFACE_PROVIDER = "sandbox"
    call_command("seed_demo", stdout=io.StringIO())
    organization = Organization.objects.get(slug="demo")
    ana = User.objects.filter_by_email("ana@example.com").get()
    olivia, ana_identity = _identity(organization, "olivia@example.com"), _identity(organization, "ana@example.com")
    actor = Actor.system("test")
    swap = activity_create(
        organization=organization,
        type=ActivityType.SWAP,
        initiator_id=olivia.pk,
        receptor_id=ana_identity.pk,
        purpose="Exchange contact details",
        requirements=[{"detail": "phone", "required": True}, {"detail": "nationality", "required": False}],
        offered_details=["first_name", "phone"],
        actor=actor,
    )
    shared = activity_create(
        organization=organization,
        type=ActivityType.REQUEST,
        initiator_id=olivia.pk,
        receptor_id=ana_identity.pk,
        purpose="Keep your address up to date",
        requirements=[{"detail": "address", "required": True}],
        actor=actor,
    )
    shared = activity_accept(activity=shared, sharing_period=timedelta(days=30), actor=Actor.user(ana))
    session, token = session_create(
        organization=organization, scopes=["first_name", "last_name"], vendor_data="a11y", actor=actor
    )
    carla = ExternalPersonalIdentity.objects.get(organization=organization, state=IdentityState.INVITED)
    activities = {
        kind: Activity.objects.filter(organization=organization, type=kind, receptor=ana_identity)
        .order_by("created_at")
        .first()
        for kind in ActivityType
    }
    world = SimpleNamespace(
        organization=organization,
        ana=ana,
        ana_identity=ana_identity,
        activities=activities,
        swap=swap,
        shared=shared,
        receipt=ConsentReceipt.objects.filter(person=ana).first(),
        proposal=DetailProposal.objects.filter(person=ana, status="pending").first(),
        ana_process=VerificationProcess.objects.filter(identity=ana_identity).first(),
        sandbox=VerificationProcess.objects.get(organization=organization, provider="sandbox"),
        identification=OtpIdentification.objects.get(organization=organization),
        session=session,
        session_token=token,
        carla=carla,
        review=ProcessReview.objects.first(),
    )
    # A missing object would make its page a 404, which axe would pass without a word.
    missing = [name for name, value in vars(world).items() if value is None]
    missing += [kind.label for kind, activity in activities.items() if activity is None]
    assert not missing, missing
    return world


def test_public_pages(audit, live_server, settings):
    demo = _demo(live_server, settings)
    page, base = audit.page, live_server.url

    audit.visit(f"{base}/accounts/login/", "sign-in")
    page.locator("#id_username").fill("ana@example.com")
    page.locator("#id_password").fill("not-her-password")
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    audit.check("sign-in with an error")
    audit.visit(f"{base}/accounts/password_reset/", "password reset")
    page.locator("main input[type=email]").fill("ana@example.com")
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    audit.check("password reset sent")
    audit.visit(f"{base}/accounts/reset/MQ/not-a-token/", "password reset link no longer valid")
    audit.visit(f"{base}/accounts/reset/done/", "password reset complete")
    audit.visit(f"{base}/accounts/signed-out/", "signed out")
    invitation = [message for message in mail.outbox if message.to == ["carla@example.com"]][-1]
    audit.visit(re.search(rf"{base}/invitations/\S+", invitation.body).group(0), "invitation")
    audit.visit(f"{base}/invitations/{demo.carla.pk}/not-a-token/", "invitation no longer valid", status=410)
    audit.visit(identification_url(demo.identification), "OTP identification")
    with page.expect_navigation():
        page.locator("main form [type=submit]").first.click()
    audit.check("OTP identification, code sent")
    audit.visit(f"{base}/identify/{uuid.uuid4()}/not-a-token/", "OTP identification link not valid", status=404)
    audit.visit(process_url(demo.sandbox), "verification sandbox")
    audit.visit(f"{base}/verify/{uuid.uuid4()}/not-a-token/", "verification link not valid", status=404)
    audit.visit(f"{base}/session/{demo.session.pk}/display?token={demo.session_token}", "data-transfer display")
    audit.visit(f"{base}/session/{demo.session.pk}/display?token=wrong", "data-transfer display, unknown", status=401)
    audit.visit(f"{base}/no-such-page/", "404", status=404)
    page.goto(f"{base}/api/docs/")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    # What Swagger UI's script draws into #swagger-ui is third-party markup and styling (vendored
    # swagger-ui-dist): its grey method badges and version stamp under 4.5:1, a copy button nested
    # in each operation's toggle button, its own focus outline. Only the page around it is ours.
    audit.check("API docs", lang="en", exclude="#swagger-ui")
    audit.assert_clean()


def test_person_pages(audit, live_server, settings):
    demo = _demo(live_server, settings)
    page, base = audit.page, live_server.url
    sign_in_and_approve(demo.ana, register_app(name="Mio Phone"))  # "Connected apps" on /me/

    page.goto(f"{base}/accounts/login/")
    page.locator("#id_username").fill("ana@example.com")
    page.locator("#id_password").fill(PERSON_PASSWORD)
    with page.expect_navigation():
        page.locator("main form [type=submit]").click()
    assert page.url == f"{base}/me/"
    assert "Mio Phone" in page.inner_text("main")
    audit.check("my page")
    audit.visit(f"{base}/me/details/", "edit my details")
    page.locator("#id_phone").fill("call me")
    with page.expect_navigation():
        page.locator("main form [type=submit]").last.click()
    audit.check("edit my details with an error")
    for kind, activity in demo.activities.items():
        audit.visit(f"{base}/me/activities/{activity.pk}/", f"activity {kind.label}")
    audit.visit(f"{base}/me/activities/{demo.activities[ActivityType.REQUEST].pk}/decline", "decline confirmation")
    audit.visit(f"{base}/me/activities/{demo.shared.pk}/revoke", "end sharing confirmation")
    audit.visit(f"{base}/me/receipts/{demo.receipt.pk}/", "receipt")
    audit.visit(f"{base}/me/share/", "share my details")
    page.locator("input[name=counterpart]").first.check()
    page.locator("#offer-first_name").check()
    with page.expect_navigation():
        page.locator("main form [type=submit]").last.click()
    audit.check("share my details with an error")
    page.locator("input[name=sharing_period]").first.check()
    with page.expect_navigation():
        page.locator("main form [type=submit]").last.click()
    audit.check("share my details, check before confirming")
    audit.visit(f"{base}/me/swap/", "propose a swap")
    audit.visit(f"{base}/me/proposals/{demo.proposal.pk}/confirm/", "confirm a proposed update")
    audit.visit(f"{base}/me/verifications/{demo.ana_process.pk}/redact/", "remove a verification's data")
    audit.visit(f"{base}/session/{demo.session.pk}", "data-transfer phone")
    app = register_app(name="Budget Book")
    _, challenge = pkce_pair()
    audit.visit(
        f"{base}/oauth/authorize/?{urlencode(authorize_params(app, 'openid inbox details', challenge))}",
        "an app asks for access",
    )
    audit.visit(f"{base}/accounts/password_change/", "password change")
    audit.visit(f"{base}/me/delete/", "delete my account")
    audit.visit(f"{base}/me/deleted/", "account deleted")
    audit.assert_clean()


def _staff_password(page, email: str) -> None:
    page.locator("#id_username").fill(email)
    page.locator("#id_password").fill(ADMIN_PASSWORD)
    with page.expect_navigation():
        page.locator("#login-form [type=submit]").click()
    assert "/admin/second-factor/" in page.url, page.url


def test_back_office_pages(audit, live_server, settings):
    demo = _demo(live_server, settings)
    page, base = audit.page, live_server.url

    # A new staff member's first sign-in: the authenticator's enrolment, then the backup codes.
    User.objects.create_user("new-staff@example.com", ADMIN_PASSWORD, is_staff=True)
    audit.visit(f"{base}/admin/login/", "admin sign-in")
    _staff_password(page, "new-staff@example.com")
    audit.check("second factor enrolment")
    key = b32decode(page.locator("#totp-secret").inner_text().replace(" ", ""))
    page.locator("#id_otp_token").fill(totp_code_for_key(key))
    with page.expect_navigation():
        page.locator("#second-factor-form [type=submit]").click()
    audit.check("second factor backup codes")
    page.context.clear_cookies()

    # The demo's superuser, with the code from the authenticator enrolled before.
    page.goto(f"{base}/admin/login/")
    _staff_password(page, "admin@example.com")
    audit.check("second factor")
    device = TOTPDevice.objects.get(user__email_hash=lookup_hash("admin@example.com"), confirmed=True)
    page.locator("#id_otp_token").fill(totp_code(device))
    with page.expect_navigation():
        page.locator("#second-factor-form [type=submit]").click()
    assert page.url == f"{base}/admin/", page.url
    audit.check("admin index")
    audit.visit(f"{base}/admin/dashboard/", "dashboard")
    changelists = [
        "identities/externalpersonalidentity",
        "activities/activity",
        "verifications/verificationprocess",
        "verifications/processreview",
        "identifications/otpidentification",
        "transfers/transfersession",
        "audit/transition",
        "webhooks/webhookendpoint",
        "people/user",
        "organizations/organization",
        "organizations/apikey",
        "activities/consentreceipt",
        "verifications/providerconnection",
        "webhooks/delivery",
    ]
    for changelist in changelists:
        audit.visit(f"{base}/admin/{changelist}/", f"changelist {changelist}")
    objects = {
        "identities/externalpersonalidentity": demo.ana_identity.pk,
        "activities/activity": demo.shared.pk,
        "verifications/verificationprocess": demo.review.process_id,
        "verifications/processreview": demo.review.pk,
        "identifications/otpidentification": demo.identification.pk,
        "transfers/transfersession": demo.session.pk,
        "audit/transition": Transition.objects.order_by("pk").last().pk,
        "organizations/organization": demo.organization.pk,
        "people/user": demo.ana.pk,
    }
    for model, pk in objects.items():
        audit.visit(f"{base}/admin/{model}/{pk}/change/", f"change form {model}")
    for model in ("organizations/organization", "people/user", "oauth/application"):
        audit.visit(f"{base}/admin/{model}/add/", f"add form {model}")
    audit.visit(f"{base}/admin/identities/externalpersonalidentity/?q=ana", "changelist searched")
    audit.visit(f"{base}/admin/identities/externalpersonalidentity/{demo.ana_identity.pk}/history/", "history")
    audit.visit(f"{base}/admin/identities/externalpersonalidentity/{demo.ana_identity.pk}/change/", "identity")
    with page.expect_navigation():
        page.locator("[name=_fsm_transition_to]").first.click()
    audit.check("transition with a reason")
    audit.assert_clean()


@pytest.mark.parametrize("role", ["operator", "viewer"])
def test_back_office_pages_as_organization_staff(role, audit, live_server, settings):
    """What the demo organization's operator and viewer see (seed_demo's `<role>@example.com`):
    scoped changelists, fewer buttons, the review queues, read-only object pages for the viewer."""
    demo = _demo(live_server, settings)
    page, base = audit.page, live_server.url
    email = f"{role}@example.com"

    page.goto(f"{base}/admin/login/")
    _staff_password(page, email)
    device = TOTPDevice.objects.get(user__email_hash=lookup_hash(email), confirmed=True)
    page.locator("#id_otp_token").fill(totp_code(device))
    with page.expect_navigation():
        page.locator("#second-factor-form [type=submit]").click()
    assert page.url == f"{base}/admin/", page.url
    audit.check(f"admin index as {role}")
    # Every list the index offers this role, and the first object of each.
    changelists = list(
        dict.fromkeys(
            href
            for href in page.locator("#content-main table a").evaluate_all("links => links.map(a => a.href)")
            if href.endswith("/") and not href.endswith("/add/")
        )
    )
    assert f"{base}/admin/verifications/processreview/" in changelists, changelists
    assert not any("/people/" in href for href in changelists), changelists
    audit.visit(f"{base}/admin/dashboard/", f"dashboard as {role}")
    objects = []
    for changelist in changelists:
        audit.visit(changelist, f"changelist as {role}")
        first = page.locator("#result_list tbody a[href*='/change/']").first
        if first.count():
            objects.append(first.get_attribute("href").split("?")[0])
    assert len(objects) >= 8, objects
    for href in objects:
        audit.visit(f"{base}{href}", f"change page as {role}")
        if role == "viewer":
            assert not page.locator("#content-main form [type=submit]").count(), f"{href} offers a button to a viewer"
    audit.visit(f"{base}/admin/verifications/processreview/{demo.review.pk}/change/", f"a review as {role}")
    audit.visit(f"{base}/admin/identifications/otpidentification/?review=waiting", f"image review queue as {role}")
    audit.assert_clean()
