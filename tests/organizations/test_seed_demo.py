"""`manage.py seed_demo` (API.md "Management commands"): what `make run` shows a newcomer."""

from __future__ import annotations

import json
import re
import shlex
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core import mail
from django.core.management import call_command
from django.urls import resolve
from rest_framework.test import APIClient

from apps.audit.models import ActorType, Transition
from apps.audit.selectors import transitions_for
from apps.core.crypto import lookup_hash
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.organizations.models import ApiKey, Organization
from apps.people.models import DetailProposal, PersonalDetail, User
from apps.transfers.models import TransferSession
from apps.verifications.connectors.base import connector_for

pytestmark = pytest.mark.django_db


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


def _raw_key(output: str) -> str | None:
    keys = [word for line in output.splitlines() for word in line.split() if word.startswith("ipk_")]
    assert len(keys) <= 1
    return keys[0] if keys else None


def _snapshot() -> dict[str, object]:
    return {
        "organizations": list(Organization.objects.values_list("slug", "name")),
        "users": sorted(User.objects.values_list("email_hash", "is_staff", "is_superuser", "password")),
        "details": PersonalDetail.objects.count(),
        "identities": sorted((i.email_address, i.state, i.person_id) for i in ExternalPersonalIdentity.objects.all()),
        # Each run adds one fresh data-transfer session (its token can only be printed once).
        "transitions": list(
            Transition.objects.exclude(event_type="session.status_changed").values_list("id", flat=True)
        ),
        "api_keys": list(ApiKey.objects.values_list("id", flat=True)),
    }


def test_it_is_idempotent():
    first = _seed()
    before = _snapshot()

    second = _seed()

    assert _snapshot() == before
    assert _raw_key(first) is not None
    assert _raw_key(second) is None
    assert "create_api_key demo" in second
    links = [line.strip() for out in (first, second) for line in out.splitlines() if "/display?token=" in line]
    assert len(links) == 2 and links[0] != links[1]
    assert TransferSession.objects.filter(status="initialized").count() == 2


def test_it_leaves_identities_in_every_state_with_their_audit_trail():
    _seed()
    _seed()

    demo = Organization.objects.get(slug="demo")
    assert demo.name == "Demo Bank"
    everyone = ExternalPersonalIdentity.objects.filter(organization=demo)
    officer = everyone.get(email_hash=lookup_hash("olivia@example.com"))
    assert (officer.state, officer.managed) == (IdentityState.ACTIVE, True)  # sends the demo activities
    identities = {i.state: i for i in everyone.exclude(pk=officer.pk)}
    assert set(identities) == {IdentityState.INVITED, IdentityState.ACTIVE, IdentityState.DEACTIVATED}

    ana = User.objects.filter_by_email("ana@example.com").get()
    assert identities[IdentityState.ACTIVE].person == ana
    assert identities[IdentityState.INVITED].person is None

    trail = {state: [(t.from_state, t.to_state) for t in transitions_for(i)] for state, i in identities.items()}
    assert trail == {
        IdentityState.INVITED: [("", "INVITED")],
        IdentityState.ACTIVE: [("", "INVITED"), ("INVITED", "ACTIVE")],
        IdentityState.DEACTIVATED: [("", "INVITED"), ("INVITED", "ACTIVE"), ("ACTIVE", "DEACTIVATED")],
    }
    activation = transitions_for(identities[IdentityState.ACTIVE]).last()
    assert (activation.actor_type, activation.actor_id) == (ActorType.USER, str(ana.pk))
    # Every organization's event is the demo's; Ana's proposed updates are hers, no organization's.
    assert all(t.organization_id == demo.pk for t in Transition.objects.exclude(event_type=DetailProposal.EVENT_TYPE))


def test_it_prints_accounts_that_can_sign_in():
    output = _seed()

    admin = authenticate(username="admin@example.com", password="demo-admin-pass")
    assert admin is not None and admin.is_staff and admin.is_superuser
    ana = authenticate(username="ana@example.com", password="demo-person-pass")
    assert ana is not None and not ana.is_staff
    details = {d.name: d.source for d in PersonalDetail.objects.filter(person=ana)}
    assert {"first_name", "last_name", "date_of_birth"} <= set(details)
    for text in ("/accounts/login/", "/admin/", "/api/docs/", "demo-admin-pass", "demo-person-pass"):
        assert text in output


def test_anas_demo_verification_proposes_updates_and_never_renames_her():
    _seed()
    ana = User.objects.filter_by_email("ana@example.com").get()
    details = {d.name: d for d in PersonalDetail.objects.filter(person=ana)}
    # The seed's documents (MARIA PAULA) are replayed unlinked; her own passport check only
    # verifies what already matches, in her spelling ...
    assert (details["first_name"].value, details["first_name"].source) == ("Ana", "verified")
    assert details["first_name"].verified_by_provider == "onfido"
    assert (details["last_name"].value, details["last_name"].source) == ("García", "self_declared")
    assert details["date_of_birth"].source == "verified"
    assert not PersonalDetail.objects.filter(person=ana, name="document_number").exists()
    # ... and proposes the rest for her to confirm.
    proposed = {p.name: p.value for p in DetailProposal.objects.filter(person=ana, status="pending")}
    assert proposed == {
        "last_name": "GARCIA MORENO",
        "document_type": "passport",
        "document_number": "PAB123456",
        "document_issuing_country": "ESP",
        "document_expiry": "2031-04-11",
    }


def test_its_api_key_reads_the_demo_identities():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_raw_key(_seed())}")

    response = client.get("/api/v1/orgs/demo/external-personal-identities")

    assert response.status_code == 200
    states = sorted(item["state"] for item in response.json()["results"])
    assert states == ["ACTIVE", "ACTIVE", "DEACTIVATED", "INVITED"]


def test_it_emails_an_invitation_only_to_the_invited_identity(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _seed()
    with django_capture_on_commit_callbacks(execute=True):
        _seed()

    invited = ExternalPersonalIdentity.objects.get(state=IdentityState.INVITED)
    assert [m.to for m in mail.outbox] == [[invited.email_address]]


def test_it_prints_the_otp_and_sandbox_links_and_they_open_their_pages(client):
    """The demo promises a link for Dora's OTP identification and one for the open sandbox
    process: both are printed on every run and open the person's page."""
    first, second = _seed(), _seed()
    for output in (first, second):
        lines = [line.strip() for line in output.splitlines()]
        otp = [line for line in lines if "/identify/" in line and line.startswith("http")]
        sandbox = [line for line in lines if "/verify/" in line and line.startswith("http") and " " not in line]
        assert len(otp) == 1, output
        assert len(sandbox) == 1, output
        for url in (otp[0], sandbox[0]):
            path = url.removeprefix("http://testserver")
            response = client.get(path)
            assert response.status_code == 200, (url, response.status_code)


def test_its_provider_recipes_name_the_portals_real_paths_and_settings(client):
    """The printed recipes for real providers (docs/providers.md): each curl goes to the
    provider connection endpoint with the settings the connector requires, the webhook and
    callback addresses are the portal's own, and the demo key the recipe uses works there."""
    output = _seed()
    key = _raw_key(output)
    lines = output.splitlines()
    curls = {}
    for n, line in enumerate(lines):
        if line.strip().startswith("curl -X PUT"):
            words = shlex.split(line.strip().rstrip("\\") + " " + lines[n + 1].strip())
            url = words[words.index("-X") + 2]
            curls[url.rsplit("/", 1)[1]] = (url, json.loads(words[words.index("-d") + 1]))
    assert set(curls) == {"onfido", "connect"}, output

    for provider, (url, body) in curls.items():
        path = url.removeprefix("http://testserver")
        assert resolve(path).kwargs == {"org_id": "demo", "provider": provider}
        connector = connector_for(provider)
        assert set(connector.required) <= set(body), (provider, body)
        assert set(body) <= set(connector.required) | set(connector.optional), (provider, body)
        # The recipe's key reads the (still empty) connection: the path and the key are real.
        assert client.get(path, HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 404

    (webhook,) = re.findall(r"http://testserver(/api/v1/providers/onfido/webhook/demo)\b", output)
    assert resolve(webhook).kwargs == {"provider": "onfido", "org_id": "demo"}
    (callback,) = re.findall(r"http://testserver(/verify/connect/callback)\b", output)
    assert resolve(callback).url_name == "connect-callback"
