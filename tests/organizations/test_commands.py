"""`manage.py create_organization` and `create_api_key` (API.md "Management commands")."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from rest_framework.test import APIClient

from apps.organizations.models import ApiKey, Organization
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

EVERY_SCOPE_BUT_FORCE_DELETE = {"identities", "activities", "processes", "identifications", "sessions", "webhooks"}


def _run(name: str, *args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(name, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def _create_key(*args: str) -> str:
    """The last line of stdout, as a script would read it."""
    out, _ = _run("create_api_key", *args)
    return out.rstrip("\n").splitlines()[-1]


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


# --- create_organization --------------------------------------------------------------------


def test_it_creates_an_organization():
    _run("create_organization", "acme", "--name", "Acme Bank")

    organization = Organization.objects.get()
    assert (organization.slug, organization.name) == ("acme", "Acme Bank")


def test_it_refuses_a_duplicate_slug():
    OrganizationFactory(slug="acme", name="Acme Bank")

    with pytest.raises(CommandError, match="acme"):
        _run("create_organization", "acme", "--name", "Another")

    assert Organization.objects.get().name == "Acme Bank"


@pytest.mark.parametrize("slug", ["Not a slug", "acme/evil", "ácme"])
def test_it_refuses_a_slug_that_cannot_be_a_path(slug):
    with pytest.raises(CommandError):
        _run("create_organization", slug, "--name", "Acme")

    assert not Organization.objects.exists()


def test_it_needs_a_slug():
    with pytest.raises(CommandError):
        _run("create_organization")


# --- create_api_key -------------------------------------------------------------------------


def test_it_prints_the_raw_key_as_the_last_line(org):
    raw = _create_key("acme")

    key = ApiKey.objects.get()
    assert raw.startswith(f"ipk_{key.prefix}_")
    assert key.organization == org


def test_it_prints_the_key_only_on_stdout(org):
    out, err = _run("create_api_key", "acme")

    raw = out.strip().splitlines()[-1]
    assert raw not in err
    assert ApiKey.objects.get().prefix in err


def test_it_gives_every_scope_but_force_delete_without_scope(org):
    _create_key("acme")

    assert set(ApiKey.objects.get().scopes) == EVERY_SCOPE_BUT_FORCE_DELETE


def test_it_gives_exactly_the_scopes_asked_for(org):
    _create_key("acme", "--scope", "identities", "--scope", "identifications:force-delete")

    assert sorted(ApiKey.objects.get().scopes) == ["identifications:force-delete", "identities"]


def test_it_gives_one_scope(org):
    _create_key("acme", "--scope", "webhooks")

    assert ApiKey.objects.get().scopes == ["webhooks"]


def test_it_refuses_an_unknown_scope(org):
    with pytest.raises(CommandError):
        _create_key("acme", "--scope", "everything")

    assert not ApiKey.objects.exists()


def test_it_refuses_an_unknown_organization(org):
    with pytest.raises(CommandError, match="nope"):
        _create_key("nope")

    assert not ApiKey.objects.exists()


def test_it_names_the_key(org):
    _create_key("acme", "--name", "ci pipeline")

    assert ApiKey.objects.get().name == "ci pipeline"


def test_it_prints_a_key_that_authenticates(org):
    raw = _create_key("acme")

    response = _client(raw).get("/api/v1/orgs/acme/external-personal-identities")

    assert response.status_code == 200
    assert ApiKey.objects.get().last_used_at is not None


def test_it_prints_a_key_bound_to_its_scopes_and_organization(org, other_org):
    raw = _create_key("acme", "--scope", "activities")
    client = _client(raw)

    assert client.get("/api/v1/orgs/acme/external-personal-identities").status_code == 403
    assert client.get("/api/v1/orgs/globex/external-personal-identities").status_code == 404


def test_it_creates_a_working_organization_and_key_end_to_end(db):
    _run("create_organization", "initech", "--name", "Initech")
    raw = _create_key("initech", "--scope", "identities")

    response = _client(raw).post(
        "/api/v1/orgs/initech/external-personal-identities",
        {"emailAddress": "peter@example.com", "firstName": "Peter", "lastName": "Gibbons", "managed": False},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["state"] == "INVITED"


def test_it_makes_a_new_key_every_run(org):
    first, second = _create_key("acme"), _create_key("acme")

    assert first != second
    assert ApiKey.objects.count() == 2
