"""The strict Content-Security-Policy breaks no page: Chromium reports no violation anywhere.

Each page a person, an actor, an integrator's embed or staff can reach is opened in Chromium
with the real policy; any "Refused to …" console message (a blocked script, style, image,
connection or frame) fails the test, naming the page.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from apps.activities.models import ActivityType
from apps.activities.services import activity_create
from apps.audit.services import Actor
from apps.identifications.links import identification_url
from apps.identifications.services import ActorData, identification_create
from apps.people.models import User
from apps.transfers.services import session_create
from apps.verifications.links import process_url
from apps.verifications.services import process_create
from tests.activities.conftest import DEFAULTS, make_party
from tests.browser.conftest import admin_sign_in
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-9"  # make_person's default


def watch(page) -> list[str]:
    seen: list[str] = []

    def on_console(message) -> None:
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            seen.append(f"{page.url}: {text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.append(f"{page.url}: {error}"))
    return seen


def sign_in(page, base: str, login_path: str, email: str) -> None:
    page.goto(f"{base}{login_path}")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_load_state("networkidle")


def local(url: str, base: str) -> str:
    parts = urlsplit(url)
    return f"{base}{parts.path}" + (f"?{parts.query}" if parts.query else "")


def test_no_page_violates_the_policy(desktop, live_server):
    base = live_server.url
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    initiator = make_party(org, "ana@example.com", first_name="Ana", email="ana@example.com")
    receptor = make_party(org, "eva@example.com", first_name="Eva", email="eva@example.com")
    activity = activity_create(
        organization=org,
        actor=Actor.system("test"),
        type=ActivityType.REQUEST,
        initiator_id=initiator.pk,
        receptor_id=receptor.pk,
        purpose="Open an account",
        **DEFAULTS[ActivityType.REQUEST],
    )
    process = process_create(organization=org, provider="sandbox", process_type=None, actor=Actor.system("test"))
    identification = identification_create(
        organization=org,
        actor_data=ActorData(name="Otto", surname="Actor", email="otto@example.com"),
        channel="EMAIL",
        expires_in=timedelta(days=1),
        actor=Actor.system("test"),
    )
    session, token = session_create(organization=org, scopes=["first_name"], actor=Actor.system("test"))
    User.objects.create_superuser("root@example.com", PASSWORD)

    violations = watch(desktop)
    public = [
        "/accounts/login/",
        "/api/docs/",
        local(process_url(process), base),
        local(identification_url(identification), base),
        f"/session/{session.pk}/display?token={token}",
    ]
    for path in public:
        response = desktop.goto(path if path.startswith("http") else f"{base}{path}")
        assert response.status < 400, (path, response.status)
        desktop.wait_for_load_state("networkidle")
        if path == "/api/docs/":
            desktop.wait_for_selector(".swagger-ui .info .title", timeout=15000)  # its scripts ran

    sign_in(desktop, base, "/accounts/login/", "eva@example.com")
    for path in ("/me/", f"/me/activities/{activity.pk}/"):
        desktop.goto(f"{base}{path}")
        desktop.wait_for_load_state("networkidle")
    desktop.goto(f"{base}/session/{session.pk}")
    desktop.wait_for_load_state("networkidle")

    desktop.context.clear_cookies()
    admin_sign_in(desktop, base, "root@example.com", PASSWORD)
    for path in ("/admin/", "/admin/dashboard/", "/admin/verifications/verificationprocess/"):
        response = desktop.goto(f"{base}{path}")
        assert response.status < 400, (path, response.status)
        desktop.wait_for_load_state("networkidle")

    assert not violations, "\n".join(violations)
