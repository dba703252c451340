"""The reference client (examples/phone_app.py) plays the person's phone app end to end (issue 20):
it signs the person in through the portal's own OAuth flow (Chromium drives the sign-in and the
approval page), confirms a data-transfer session that a display page shows as a QR, and accepts an
activity; with the same audit rows, `activity.status_changed` events and consent receipts as the
person's consent page."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from apps.activities.models import Activity, ActivityType, ConsentReceipt
from apps.activities.services import activity_create
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.oauth.models import Connection
from apps.transfers.models import TransferSession
from apps.webhooks.models import Event
from apps.webhooks.relay import events_relay
from tests.activities.conftest import make_party
from tests.browser.conftest import SCREENSHOTS
from tests.factories import OrganizationFactory, make_api_key
from tests.oauth.flow import register_app

pytestmark = pytest.mark.browser

CLIENT = Path(__file__).resolve().parents[2] / "examples" / "phone_app.py"
PASSWORD = "correct-horse-9"


@pytest.fixture
def portal(live_server, settings):
    """The issuer and every link are the live server's (the test settings say http://testserver)."""
    settings.PUBLIC_BASE_URL = live_server.url
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": live_server.url}
    return live_server.url


def _request(org, bruno, ana, purpose: str) -> Activity:
    return activity_create(
        organization=org,
        type=ActivityType.REQUEST,
        initiator_id=bruno.pk,
        receptor_id=ana.pk,
        requirements=[{"detail": "first_name", "required": True}, {"detail": "last_name", "required": False}],
        purpose=purpose,
        actor=Actor.system("test"),
    )


def _lines(process: subprocess.Popen) -> list[dict]:
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, (out, err)
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def test_the_phone_app_confirms_a_qr_session_and_accepts_an_activity(desktop, phone, portal, screenshot):
    org = OrganizationFactory(slug="acme", name="Acme Bank")
    key = make_api_key(org)
    bruno = make_party(org, "bruno@example.com", first_name="Bruno", last_name="Banker")
    ana = make_party(org, "ana@example.com", first_name="Ana", last_name="García", email="ana@example.com")
    ana.person.set_password(PASSWORD)
    ana.person.save()
    app = register_app(name="Mio Phone", scopes="openid inbox sessions", redirect_uris="http://127.0.0.1/callback")
    by_app = _request(org, bruno, ana, "Open an account")
    by_page = _request(org, bruno, ana, "Open a savings account")

    # The organization shows its QR on a display page (another screen than the phone).
    session = desktop.request.post(
        f"{portal}/api/v1/orgs/acme/sessions",
        headers={"Authorization": f"Bearer {key}"},
        data={"scopes": ["first_name", "last_name"], "vendor_data": "user-42"},
    ).json()
    desktop.goto(f"{portal}/session/{session['session_id']}/display?token={session['session_token']}")
    expect(desktop.locator("#transfer-status")).to_have_text("Initialized")

    client = subprocess.Popen(  # noqa: S603 - our interpreter, our script
        [
            sys.executable,
            str(CLIENT),
            "--portal",
            portal,
            "--client-id",
            app.client_id,
            "--no-browser",
            "--timeout",
            "60",
            "--session",
            session["session_id"],
            "--accept-scopes",
            "first_name",
            "--activity",
            str(by_app.pk),
            "--accepted-details",
            "first_name",
            "--sharing-period",
            "P30D",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    authorize = None
    for line in client.stdout:
        step = json.loads(line)
        if step["step"] == "authorize":
            authorize = step["url"]
            break
        assert step["step"] != "error", step
    assert authorize and authorize.startswith(f"{portal}/oauth/authorize/?")

    # The person signs in on the portal and approves the app, in the phone's browser.
    phone.goto(authorize)
    assert "/accounts/login/" in phone.url
    phone.get_by_label("Email").fill("ana@example.com")
    phone.get_by_label("Password").fill(PASSWORD)
    with phone.expect_navigation():
        phone.locator("main").get_by_role("button", name="Sign in").click()
    expect(phone.get_by_role("heading", name="Allow Mio Phone to act for you?")).to_be_visible()
    expect(phone.get_by_text("Answer data-transfer sessions")).to_be_visible()
    screenshot(phone, "oauth-approval-phone.png")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Allow").click()
    expect(phone.get_by_text("Signed in. You can close this window.")).to_be_visible()

    steps = _lines(client)
    assert [s["step"] for s in steps] == [
        "signed_in",
        "session_information",
        "session_update",
        "activity_accept",
        "done",
    ]
    assert steps[1]["requester"] == "Acme Bank"
    assert steps[1]["matching_code"] == f"{uuid.UUID(session['session_id']).int % 10000:04d}"
    assert steps[-1] == {"step": "done", "session": "confirmed", "activity": "ACCEPTED"}

    # The display page, on the other screen, turns confirmed; the organization reads the data.
    expect(desktop.locator("#transfer-status")).to_have_text("Confirmed")
    assert TransferSession.objects.get(pk=session["session_id"]).person_id == ana.person_id
    decision = desktop.request.get(
        f"{portal}/api/v1/orgs/acme/sessions/{session['session_id']}/decision",
        headers={"Authorization": f"Bearer {key}"},
    ).json()
    assert decision["data"] == {"first_name": "Ana"}

    # The same answer on the consent page, for the comparison.
    phone.goto(f"{portal}/me/activities/{by_page.pk}/")
    phone.get_by_label("Last name").uncheck()
    phone.get_by_label("30 days").check()
    with phone.expect_navigation():
        phone.get_by_role("button", name="Accept and share").click()
    expect(phone.get_by_text("You share First name with Bruno Banker")).to_be_visible()

    events_relay()
    for activity in (by_app, by_page):
        activity.refresh_from_db()
        assert activity.status == "ACCEPTED" and activity.accepted_details == ["first_name"]

    def audit(activity):
        row = Transition.objects.filter(object_id=str(activity.pk)).latest("id")
        return (row.event_type, row.from_state, row.to_state, row.actor_type, row.actor_id, row.actor_label, row.reason)

    assert (
        audit(by_app)
        == audit(by_page)
        == (
            "activity.status_changed",
            "PENDING",
            "ACCEPTED",
            "user",
            str(ana.person_id),
            f"user {ana.person_id}",
            "accepted",
        )
    )

    def event(activity):
        found = Event.objects.get(type="activity.status_changed", data__id=str(activity.pk), data__status="ACCEPTED")
        return {k: v for k, v in found.data.items() if k != "id"}

    assert event(by_app) == event(by_page)

    def receipt(activity):
        found = ConsentReceipt.objects.get(activity=activity).as_json()
        return {
            k: v
            for k, v in found.items()
            if k not in ("receipt_id", "activity_id", "purpose", "consented_at", "sharing_until")
        }

    assert receipt(by_app) == receipt(by_page)
    assert ConsentReceipt.objects.get(activity=by_app).sharing_until - by_app.accepted_at <= timedelta(
        days=30, minutes=1
    )

    # The app is listed under Connected apps on /me/, and revoking it there ends its access.
    phone.goto(f"{portal}/me/")
    apps = phone.locator("#apps")
    expect(apps.locator(".item-title")).to_have_text("Mio Phone")
    expect(apps.get_by_text("Answer data-transfer sessions")).to_be_visible()
    apps.screenshot(path=str(SCREENSHOTS / "me-connected-apps-phone.png"))
    with phone.expect_navigation():
        apps.get_by_role("button", name="Revoke Mio Phone").click()
    expect(phone.get_by_text("Mio Phone can no longer act for you")).to_be_visible()
    assert Connection.objects.get(application=app).status == "revoked"
