"""The API key cache (apps.organizations.key_cache): a hot request does not read the key from
the database, and every change to a key or its organization is seen by the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.organizations import key_cache
from apps.organizations.models import ApiKey, Scope
from apps.organizations.services import api_key_create, api_key_revoke
from tests.factories import staff_login

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme/external-personal-identities"


def _client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


def _key_queries(client: APIClient) -> tuple[int, list[str]]:
    with CaptureQueriesContext(connection) as queries:
        status = client.get(BASE).status_code
    return status, [q["sql"] for q in queries if "organizations_apikey" in q["sql"]]


@pytest.fixture
def key(org) -> tuple[ApiKey, str]:
    return api_key_create(organization=org)


def test_a_hot_request_does_not_read_the_key_from_the_database(key):
    _, raw = key
    client = _client(raw)

    status, first = _key_queries(client)
    assert status == 200 and len(first) >= 1  # the miss reads it (and records its use)
    status, hot = _key_queries(client)
    assert status == 200 and hot == []


def test_a_revoked_key_is_refused_on_the_next_request(key, django_capture_on_commit_callbacks):
    api_key, raw = key
    client = _client(raw)
    assert client.get(BASE).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=api_key)

    assert client.get(BASE).status_code == 401
    assert key_cache.key_cached(api_key.prefix) == key_cache.TOMBSTONE


def test_a_reader_that_read_the_key_before_its_revocation_cannot_put_it_back(key, django_capture_on_commit_callbacks):
    api_key, raw = key
    stale = key_cache.key_load(api_key.prefix)  # read just before the revocation commits
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(api_key=api_key)
    key_cache.key_remember(stale)

    assert _client(raw).get(BASE).status_code == 401


def test_a_scope_change_in_the_back_office_applies_at_once(key, django_capture_on_commit_callbacks):
    api_key, raw = key
    client = _client(raw)
    assert client.get(BASE).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        api_key.scopes = [Scope.ACTIVITIES]
        api_key.save()

    response = client.get(BASE)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "missing_scope"


def test_a_renamed_organization_moves_its_keys_at_once(org, key, django_capture_on_commit_callbacks):
    _, raw = key
    client = _client(raw)
    assert client.get(BASE).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        org.slug = "acme-bank"
        org.save()

    assert client.get(BASE).status_code == 404
    assert client.get("/api/v1/orgs/acme-bank/external-personal-identities").status_code == 200


def test_a_deleted_key_or_organization_is_refused(org, key, django_capture_on_commit_callbacks):
    api_key, raw = key
    _, other_raw = api_key_create(organization=org)
    for client in (_client(raw), _client(other_raw)):
        assert client.get(BASE).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        api_key.delete()
    assert _client(raw).get(BASE).status_code == 401
    assert _client(other_raw).get(BASE).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        org.delete()
    assert _client(other_raw).get(BASE).status_code == 401


def test_the_admin_revoke_action_applies_at_once(org, key, django_capture_on_commit_callbacks):
    api_key, raw = key
    client = _client(raw)
    assert client.get(BASE).status_code == 200
    staff = Client()
    staff_login(staff, get_user_model().objects.create_superuser("root@example.com", "pw-123456789"))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            "/admin/organizations/apikey/", {"action": "revoke", "_selected_action": [str(api_key.pk)]}
        )
    assert response.status_code == 302

    assert client.get(BASE).status_code == 401


@override_settings(API_RATE_LIMIT="3/min")
def test_wrong_secrets_with_a_keys_prefix_do_not_use_up_its_rate_limit(key):
    api_key, raw = key
    forged = f"{raw.rsplit('_', 1)[0]}_{'A' * 43}"
    assert forged.split("_")[1] == api_key.prefix
    for _ in range(5):
        assert _client(forged).get(BASE).status_code == 401

    client = _client(raw)
    assert [client.get(BASE).status_code for _ in range(4)] == [200, 200, 200, 429]
