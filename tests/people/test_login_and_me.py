"""People sign in with their email at /accounts/login/ and land on /me/."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.audit.services import Actor, transition_apply
from apps.identities.services import identity_activate
from tests.factories import OrganizationFactory, make_identity, make_person

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


@pytest.mark.parametrize("typed", ["ana@example.com", "ANA@Example.com", " ana@example.com "])
def test_it_signs_in_with_email_and_password(client, typed):
    person = make_person(email="ana@example.com", password=PASSWORD)

    response = client.post("/accounts/login/", {"username": typed, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert client.session["_auth_user_id"] == str(person.pk)
    assert client.get("/me/").status_code == 200


def test_it_shows_the_login_form(client):
    response = client.get("/accounts/login/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="username"' in html and 'name="password"' in html


@pytest.mark.parametrize(
    ("username", "password"),
    [("ana@example.com", "wrong-password"), ("bob@example.com", PASSWORD), ("", PASSWORD)],
)
def test_it_refuses_wrong_credentials(client, username, password):
    make_person(email="ana@example.com", password=PASSWORD)

    response = client.post("/accounts/login/", {"username": username, "password": password})

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not _signed_in(client)


def test_it_refuses_a_deactivated_account(client):
    person = make_person(email="ana@example.com", password=PASSWORD)
    person.is_active = False
    person.save()

    response = client.post("/accounts/login/", {"username": "ana@example.com", "password": PASSWORD})

    assert response.status_code == 200
    assert not _signed_in(client)


def test_it_follows_next_after_sign_in(client):
    make_person(email="ana@example.com", password=PASSWORD)

    response = client.post(
        "/accounts/login/?next=/me/%3Ftab%3Dreceipts",
        {"username": "ana@example.com", "password": PASSWORD, "next": "/me/?tab=receipts"},
    )

    assert response["Location"] == "/me/?tab=receipts"


def test_it_does_not_redirect_off_site_after_sign_in(client):
    make_person(email="ana@example.com", password=PASSWORD)

    response = client.post(
        "/accounts/login/", {"username": "ana@example.com", "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert response["Location"] == "/me/"


def test_it_enforces_csrf_on_login(db):
    make_person(email="ana@example.com", password=PASSWORD)
    client = Client(enforce_csrf_checks=True)

    response = client.post("/accounts/login/", {"username": "ana@example.com", "password": PASSWORD})

    assert response.status_code == 403
    assert not _signed_in(client)


def test_it_requires_sign_in_for_me(client):
    response = client.get("/me/")

    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/"


def test_it_sends_the_home_page_to_me(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/me/"


def test_it_shows_the_persons_details(client):
    person = make_person(
        email="ana@example.com", first_name="Ximena", last_name="Zubizarreta", date_of_birth="1987-04-12"
    )
    make_person(email="bob@example.com", first_name="Roberto")
    client.force_login(person)

    response = client.get("/me/")

    html = response.content.decode()
    assert "ana@example.com" in html
    for value in ("Ximena", "Zubizarreta", "12 Apr 1987", "Date of birth", "Self-declared"):
        assert value in html
    assert "Roberto" not in html
    assert "bob@example.com" not in html


def test_it_shows_the_linked_organizations(client, org):
    person = make_person(email="ana@example.com")
    identity_activate(identity=make_identity(org, email="ana@example.com"), person=person)
    globex = OrganizationFactory(name="Globex Corporation")
    transition_apply(
        identity_activate(identity=make_identity(globex, email="ana@example.com"), person=person),
        "deactivate",
        actor=Actor.system("test"),
    )
    # Invited but not linked: the organization does not know this account yet.
    make_identity(OrganizationFactory(name="Initech"), email="ana@example.com")
    # Someone else's organization.
    other = make_person(email="bob@example.com")
    identity_activate(
        identity=make_identity(OrganizationFactory(name="Umbrella"), email="bob@example.com"), person=other
    )
    client.force_login(person)

    response = client.get("/me/")

    html = response.content.decode()
    assert "Acme Bank" in html
    assert "Globex Corporation" in html
    assert "Deactivated" in html
    assert "Initech" not in html
    assert "Umbrella" not in html
    assert [i.organization.name for i in response.context["identities"]] == ["Globex Corporation", "Acme Bank"]


def test_it_says_when_no_organization_is_linked(client):
    client.force_login(make_person(email="ana@example.com"))

    response = client.get("/me/")

    assert response.status_code == 200
    assert list(response.context["identities"]) == []
    assert list(response.context["details"]) == []


def test_it_signs_out(client):
    client.force_login(make_person(email="ana@example.com"))

    response = client.post("/accounts/logout/")

    assert response.status_code == 302
    assert not _signed_in(client)
    assert client.get("/me/").status_code == 302
