"""The invitation page a person opens from their email (Django test client, no browser)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client

from apps.audit.models import ActorType
from apps.audit.selectors import transitions_for
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.people.models import PersonalDetail, User
from tests.factories import make_identity, make_person

pytestmark = pytest.mark.django_db

LINK = re.compile(r"http://testserver(/invitations/[0-9a-f-]{36}/[^/\s\"]+/)")
PASSWORD = "Violet-lantern-harbour-42"
CREATE = {"action": "create", "password1": PASSWORD, "password2": PASSWORD}
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def invite(org, django_capture_on_commit_callbacks):
    """Create an identity and return it with the link path from its invitation email."""

    def _invite(email: str = "ana@example.com") -> tuple[ExternalPersonalIdentity, str]:
        with django_capture_on_commit_callbacks(execute=True):
            identity = make_identity(org, email=email)
        return identity, LINK.search(mail.outbox[-1].body).group(1)

    return _invite


def _state(identity: ExternalPersonalIdentity) -> str:
    identity.refresh_from_db()
    return identity.state


def test_it_shows_the_organization_and_the_account_form(client, invite):
    _, link = invite()

    response = client.get(link)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Acme Bank" in html
    assert 'name="password1"' in html and 'name="password2"' in html
    assert 'value="create"' in html


def test_it_creates_the_account_activates_and_signs_in(client, invite):
    identity, link = invite()

    response = client.post(link, CREATE)

    assert response.status_code == 302
    assert response["Location"] == "/me/"
    identity.refresh_from_db()
    assert identity.state == IdentityState.ACTIVE
    person = User.objects.filter_by_email("ana@example.com").get()
    assert identity.person == person
    assert person.check_password(PASSWORD)
    assert client.session["_auth_user_id"] == str(person.pk)
    me = client.get("/me/")
    assert me.status_code == 200
    assert "Acme Bank" in me.content.decode()
    # The names the organization gave become the person's self-declared details.
    assert {d.name: d.value for d in PersonalDetail.objects.filter(person=person)} == {
        "first_name": "Ana",
        "last_name": "García",
    }
    last = transitions_for(identity).last()
    assert (last.from_state, last.to_state) == ("INVITED", "ACTIVE")
    assert (last.actor_type, last.actor_id) == (ActorType.USER, str(person.pk))


def test_it_works_once(client, invite):
    identity, link = invite()
    client.post(link, CREATE)
    client.logout()

    assert client.get(link).status_code == 410
    response = client.post(link, CREATE)
    assert response.status_code == 410
    assert "no longer valid" in response.content.decode()
    assert User.objects.count() == 1
    assert transitions_for(identity).count() == 2


def test_it_expires(client, invite):
    with time_machine.travel(START, tick=False):
        identity, link = invite()

    with time_machine.travel(START + timedelta(seconds=settings.INVITATION_TTL_SECONDS - 60), tick=False):
        assert client.get(link).status_code == 200

    with time_machine.travel(START + timedelta(seconds=settings.INVITATION_TTL_SECONDS + 1), tick=False):
        assert client.get(link).status_code == 410
        assert client.post(link, CREATE).status_code == 410

    assert _state(identity) == IdentityState.INVITED
    assert not User.objects.exists()


def test_it_refuses_a_tampered_token(client, invite):
    identity, link = invite()
    _, identity_id, token, _ = link.rsplit("/", 3)
    last = token[-1]
    tampered = token[:-1] + ("0" if last != "0" else "1")

    for path in (
        f"/invitations/{identity_id}/{tampered}/",
        f"/invitations/{identity_id}/garbage/",
        f"/invitations/{identity_id}/zz-{token.split('-', 1)[1]}/",
    ):
        assert client.get(path).status_code == 410
        assert client.post(path, CREATE).status_code == 410

    assert _state(identity) == IdentityState.INVITED
    assert not User.objects.exists()


def test_it_refuses_one_identitys_token_on_another(client, invite):
    first, first_link = invite("ana@example.com")
    second, _ = invite("bob@example.com")
    token = first_link.rstrip("/").rsplit("/", 1)[1]

    response = client.post(f"/invitations/{second.pk}/{token}/", CREATE)

    assert response.status_code == 410
    assert (_state(first), _state(second)) == (IdentityState.INVITED, IdentityState.INVITED)


def test_it_shows_an_error_when_the_passwords_differ(client, invite):
    identity, link = invite()

    response = client.post(link, {**CREATE, "password2": PASSWORD + "x"})

    assert response.status_code == 400
    assert "The two password fields didn" in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert _state(identity) == IdentityState.INVITED
    assert not User.objects.exists()
    assert "_auth_user_id" not in client.session


def test_it_refuses_a_weak_password(client, invite):
    identity, link = invite()

    response = client.post(link, {"action": "create", "password1": "12345678", "password2": "12345678"})

    assert response.status_code == 400
    assert "This password is too common." in response.content.decode()
    assert _state(identity) == IdentityState.INVITED
    assert not User.objects.exists()


def test_it_offers_sign_in_to_an_existing_account(client, invite):
    make_person(email="ana@example.com")
    identity, link = invite()

    response = client.get(link)

    assert response.status_code == 200
    html = response.content.decode()
    assert "/accounts/login/?next=" in html
    assert 'name="password1"' not in html
    # Creating a second account with the same email is not possible.
    assert client.post(link, CREATE).status_code == 400
    assert User.objects.count() == 1
    assert _state(identity) == IdentityState.INVITED


def test_it_links_the_signed_in_person(client, invite):
    person = make_person(email="ana@example.com")
    identity, link = invite()
    client.force_login(person)

    page = client.get(link)
    assert 'value="link"' in page.content.decode()
    response = client.post(link, {"action": "link"})

    assert response.status_code == 302
    assert response["Location"] == "/me/"
    identity.refresh_from_db()
    assert identity.state == IdentityState.ACTIVE
    assert identity.person == person
    assert client.get(link).status_code == 410


def test_it_signs_in_then_links(client, invite):
    person = make_person(email="ana@example.com", password="correct-horse-9")
    identity, link = invite()

    login = client.post(
        f"/accounts/login/?next={link}", {"username": "ana@example.com", "password": "correct-horse-9", "next": link}
    )
    assert login.status_code == 302
    assert login["Location"] == link
    response = client.post(link, {"action": "link"})

    assert response.status_code == 302
    identity.refresh_from_db()
    assert (identity.state, identity.person) == (IdentityState.ACTIVE, person)


def test_it_does_not_link_without_a_signed_in_person(client, invite):
    identity, link = invite()

    response = client.post(link, {"action": "link"})

    assert response.status_code == 400
    assert _state(identity) == IdentityState.INVITED


def test_it_enforces_csrf(invite):
    identity, link = invite()
    client = Client(enforce_csrf_checks=True)

    refused = client.post(link, CREATE)

    assert refused.status_code == 403
    assert _state(identity) == IdentityState.INVITED
    assert not User.objects.exists()

    client.get(link)  # sets the CSRF cookie, as a browser opening the page would
    token = client.cookies["csrftoken"].value
    accepted = client.post(link, {**CREATE, "csrfmiddlewaretoken": token})

    assert accepted.status_code == 302
    assert _state(identity) == IdentityState.ACTIVE


def test_it_enforces_csrf_on_link(invite):
    person = make_person(email="ana@example.com")
    identity, link = invite()
    client = Client(enforce_csrf_checks=True)
    client.force_login(person)

    assert client.post(link, {"action": "link"}).status_code == 403
    assert _state(identity) == IdentityState.INVITED


def test_it_does_not_cache_the_page(client, invite):
    _, link = invite()

    response = client.get(link)

    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
