"""The back office for API keys: the raw key is shown once on creation, never again; revoke."""

from __future__ import annotations

import re

import pytest
from django.contrib.admin.models import LogEntry
from rest_framework.test import APIClient

from apps.organizations.models import ApiKey, Scope
from apps.organizations.services import api_key_create
from apps.people.models import User
from tests.factories import make_person, staff_login

pytestmark = pytest.mark.django_db

ADD = "/admin/organizations/apikey/add/"
CHANGELIST = "/admin/organizations/apikey/"
RAW_KEY = re.compile(r"ipk_[0-9a-f]+_[A-Za-z0-9_-]{20,}")
IDENTITIES = "/api/v1/orgs/acme/external-personal-identities"


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin@example.com", "admin-pass-123")


@pytest.fixture
def staff(client, superuser):
    staff_login(client, superuser)
    return client


def _bearer(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _add(staff, org, scopes: list[str], name: str = "ci"):
    return staff.post(ADD, {"organization": str(org.pk), "name": name, "scopes": scopes})


def test_it_shows_the_raw_key_once_on_creation(staff, org):
    response = _add(staff, org, [Scope.IDENTITIES, Scope.ACTIVITIES])

    assert response.status_code == 200
    page = response.content.decode()
    raws = set(RAW_KEY.findall(page))
    assert len(raws) == 1
    raw = raws.pop()
    key = ApiKey.objects.get()
    assert raw.startswith(f"ipk_{key.prefix}_")
    assert key.organization == org
    assert key.name == "ci"
    assert sorted(key.scopes) == ["activities", "identities"]
    assert "no-store" in response["Cache-Control"]


def test_it_shows_a_key_that_authenticates(staff, org):
    response = _add(staff, org, [Scope.IDENTITIES])
    raw = RAW_KEY.search(response.content.decode()).group(0)

    assert _bearer(raw).get(IDENTITIES).status_code == 200


def test_it_applies_the_chosen_scopes_to_the_created_key(staff, org):
    response = _add(staff, org, [Scope.WEBHOOKS])
    raw = RAW_KEY.search(response.content.decode()).group(0)

    assert _bearer(raw).get(IDENTITIES).status_code == 403


def test_it_never_shows_the_key_again(staff, org):
    response = _add(staff, org, [Scope.IDENTITIES])
    raw = RAW_KEY.search(response.content.decode()).group(0)
    key = ApiKey.objects.get()

    pages = [
        staff.get(f"{CHANGELIST}{key.pk}/change/"),
        staff.get(CHANGELIST),
        staff.get(f"/admin/organizations/organization/{org.pk}/change/"),
        staff.get(f"{CHANGELIST}{key.pk}/history/"),
    ]

    for page in pages:
        assert page.status_code == 200
        content = page.content.decode()
        assert key.prefix in content
        assert raw not in content
        assert raw.split("_", 2)[2] not in content
        assert key.hashed_secret not in content
    assert not any(raw in entry.object_repr or raw in entry.change_message for entry in LogEntry.objects.all())


def test_it_offers_every_scope_but_force_delete_by_default(staff):
    page = staff.get(ADD).content.decode()

    checked = set(re.findall(r'<input[^>]*value="([^"]+)"[^>]*checked', page)) | set(
        re.findall(r'<input[^>]*checked[^>]*value="([^"]+)"', page)
    )
    assert checked == {"identities", "activities", "processes", "identifications", "sessions", "webhooks"}


def test_it_refuses_a_key_without_scopes(staff, org):
    response = _add(staff, org, [])

    assert response.status_code == 200
    assert not RAW_KEY.search(response.content.decode())
    assert not ApiKey.objects.exists()


def test_it_refuses_an_unknown_scope(staff, org):
    response = _add(staff, org, ["everything"])

    assert not RAW_KEY.search(response.content.decode())
    assert not ApiKey.objects.exists()


def test_it_keeps_the_secret_when_the_name_is_changed(staff, org):
    key, raw = api_key_create(organization=org, scopes=[Scope.IDENTITIES], name="old")

    response = staff.post(f"{CHANGELIST}{key.pk}/change/", {"name": "new"})

    assert response.status_code == 302
    key.refresh_from_db()
    assert key.name == "new"
    assert key.scopes == ["identities"]
    assert _bearer(raw).get(IDENTITIES).status_code == 200


def test_it_revokes_selected_keys(staff, org):
    revoked, revoked_raw = api_key_create(organization=org)
    kept, kept_raw = api_key_create(organization=org)

    response = staff.post(CHANGELIST, {"action": "revoke", "_selected_action": [str(revoked.pk)]}, follow=True)

    assert response.status_code == 200
    assert "Revoked 1 API key" in response.content.decode()
    revoked.refresh_from_db()
    kept.refresh_from_db()
    assert revoked.revoked_at is not None
    assert kept.revoked_at is None
    assert _bearer(revoked_raw).get(IDENTITIES).status_code == 401
    assert _bearer(kept_raw).get(IDENTITIES).status_code == 200


def test_it_keeps_the_first_revocation_time_when_revoked_twice(staff, org):
    key, _ = api_key_create(organization=org)
    staff.post(CHANGELIST, {"action": "revoke", "_selected_action": [str(key.pk)]})
    key.refresh_from_db()
    first = key.revoked_at

    response = staff.post(CHANGELIST, {"action": "revoke", "_selected_action": [str(key.pk)]}, follow=True)

    key.refresh_from_db()
    assert key.revoked_at == first
    assert "Revoked 0 API key" in response.content.decode()


def test_it_keeps_non_staff_out(client, org):
    client.force_login(make_person(email="someone@example.com"))

    response = client.post(ADD, {"organization": str(org.pk), "name": "x", "scopes": [Scope.IDENTITIES]})

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
    assert not ApiKey.objects.exists()
