"""Bearer API keys (API.md "Conventions"): 401 without a valid key, 404 on another
organization's path, 403 without the scope, and only a hash of the secret is kept."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection
from rest_framework.test import APIClient

from apps.identities.models import ExternalPersonalIdentity
from apps.organizations.models import ApiKey, Scope
from apps.organizations.services import api_key_create, api_key_revoke
from tests.factories import make_api_key, make_identity

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme/external-personal-identities"
PAYLOAD = {"emailAddress": "ana@example.com", "firstName": "Ana", "lastName": "García", "managed": True}


def _codes(response) -> list[str]:
    return [item["code"] for item in response.json()["errors"]]


def _assert_error_shape(response) -> None:
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"errors"}
    assert body["errors"], "an error body names at least one error"
    for item in body["errors"]:
        assert {"code", "message"} <= set(item) <= {"code", "message", "field"}
        assert item["code"] and item["message"]


@pytest.fixture
def scopeless_api(org, make_client):
    """The owner's organization, but a key without the identities scope."""
    return make_client(make_api_key(org, scopes=[Scope.ACTIVITIES, Scope.IDENTIFICATIONS_FORCE_DELETE]))


# --- 401 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_answers_401_without_a_header(org, make_client, method):
    make_identity(org)

    response = getattr(make_client(None), method)(BASE, PAYLOAD, format="json")

    assert response.status_code == 401
    _assert_error_shape(response)
    assert _codes(response) == ["not_authenticated"]
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert "ana@example.com" not in response.content.decode()
    assert ExternalPersonalIdentity.objects.count() == 1


@pytest.mark.parametrize(
    "header",
    [
        "Bearer garbage",
        "Bearer ipk_deadbeef_not-a-real-secret",
        "Bearer ipk__",
        "Bearer",
        "Bearer two words",
        "Bearer ipk_é",
    ],
)
def test_it_answers_401_for_a_garbage_key(org, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)

    response = client.get(BASE)

    assert response.status_code == 401
    _assert_error_shape(response)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_answers_401_for_another_scheme(org):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz")

    response = client.get(BASE)

    assert response.status_code == 401
    _assert_error_shape(response)


def test_it_answers_401_for_a_real_prefix_with_a_wrong_secret(org, make_client):
    key, raw = api_key_create(organization=org)
    forged = f"ipk_{key.prefix}_{'x' * 43}"
    assert forged != raw

    response = make_client(forged).get(BASE)

    assert response.status_code == 401
    _assert_error_shape(response)
    assert _codes(response) == ["invalid_api_key"]


def test_it_answers_401_for_a_revoked_key(org, make_client):
    key, raw = api_key_create(organization=org)
    client = make_client(raw)
    assert client.get(BASE).status_code == 200

    api_key_revoke(api_key=key)
    response = client.get(BASE)
    post = client.post(BASE, PAYLOAD, format="json")

    assert response.status_code == 401
    _assert_error_shape(response)
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert post.status_code == 401
    assert not ExternalPersonalIdentity.objects.exists()


def test_it_keeps_the_first_revocation_time(org):
    key, _ = api_key_create(organization=org)
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=UTC), tick=False):
        api_key_revoke(api_key=key)
    with time_machine.travel(datetime(2026, 11, 24, 10, 0, tzinfo=UTC), tick=False):
        api_key_revoke(api_key=key)

    key.refresh_from_db()
    assert key.revoked_at == datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def test_it_keeps_other_keys_working_when_one_is_revoked(org, make_client):
    revoked, _ = api_key_create(organization=org)
    api_key_revoke(api_key=revoked)

    assert make_client(make_api_key(org)).get(BASE).status_code == 200


# --- 404 for the outsider ---------------------------------------------------------------------


def test_it_answers_404_with_no_data_on_another_orgs_path(org, outsider_api):
    identity = make_identity(org)
    detail = f"{BASE}/{identity.pk}"

    responses = [
        outsider_api.get(BASE),
        outsider_api.get(detail),
        outsider_api.post(BASE, {**PAYLOAD, "emailAddress": "eve@example.com"}, format="json"),
        outsider_api.patch(detail, {"firstName": "Eve"}, format="json"),
    ]

    for response in responses:
        assert response.status_code == 404
        _assert_error_shape(response)
        assert "ana@example.com" not in response.content.decode()
        assert str(identity.pk) not in response.content.decode()
    identity.refresh_from_db()
    assert identity.first_name == "Ana"
    assert ExternalPersonalIdentity.objects.count() == 1


def test_it_answers_the_same_404_for_another_org_and_no_org(org, other_org, outsider_api):
    """An outsider cannot tell that 'acme' exists."""
    theirs = outsider_api.get(BASE)
    nobody = outsider_api.get("/api/v1/orgs/no-such-org/external-personal-identities")

    assert theirs.status_code == nobody.status_code == 404
    assert theirs.json() == nobody.json()


def test_it_answers_404_not_403_to_an_outsider_key_lacking_the_scope(org, other_org, make_client):
    client = make_client(make_api_key(other_org, scopes=[Scope.ACTIVITIES]))

    response = client.get(BASE)

    assert response.status_code == 404
    _assert_error_shape(response)


def test_it_serves_the_outsider_its_own_path(org, other_org, outsider_api):
    make_identity(org)

    response = outsider_api.get("/api/v1/orgs/globex/external-personal-identities")

    assert response.status_code == 200
    assert response.json()["results"] == []


# --- 403 for a key without the scope --------------------------------------------------------


def test_it_answers_403_to_a_key_lacking_the_scope(org, scopeless_api):
    identity = make_identity(org)

    responses = [
        scopeless_api.get(BASE),
        scopeless_api.get(f"{BASE}/{identity.pk}"),
        scopeless_api.post(BASE, {**PAYLOAD, "emailAddress": "bo@example.com"}, format="json"),
        scopeless_api.patch(f"{BASE}/{identity.pk}", {"firstName": "Eve"}, format="json"),
    ]

    for response in responses:
        assert response.status_code == 403
        _assert_error_shape(response)
        assert _codes(response) == ["missing_scope"]
        assert "identities" in response.json()["errors"][0]["message"]
        assert "ana@example.com" not in response.content.decode()
    identity.refresh_from_db()
    assert identity.first_name == "Ana"
    assert ExternalPersonalIdentity.objects.count() == 1


def test_it_lets_a_key_with_only_the_scope_in(org, make_client):
    client = make_client(make_api_key(org, scopes=[Scope.IDENTITIES]))

    assert client.get(BASE).status_code == 200
    assert client.post(BASE, PAYLOAD, format="json").status_code == 201


# --- last_used_at ---------------------------------------------------------------------------


def test_it_records_when_a_key_was_last_used(org, make_client):
    key, raw = api_key_create(organization=org)
    assert key.last_used_at is None
    used_at = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    with time_machine.travel(used_at, tick=False):
        assert make_client(raw).get(BASE).status_code == 200

    key.refresh_from_db()
    assert key.last_used_at == used_at


def test_it_writes_last_used_at_at_most_once_a_minute(org, make_client):
    key, raw = api_key_create(organization=org)
    client = make_client(raw)
    start = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

    with time_machine.travel(start, tick=False):
        client.get(BASE)
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        client.get(BASE)
    key.refresh_from_db()
    assert key.last_used_at == start

    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        client.get(BASE)
    key.refresh_from_db()
    assert key.last_used_at == start + timedelta(seconds=61)


def test_it_does_not_mark_a_revoked_key_as_used(org, make_client):
    key, raw = api_key_create(organization=org)
    api_key_revoke(api_key=key)

    make_client(raw).get(BASE)

    key.refresh_from_db()
    assert key.last_used_at is None


# --- storage --------------------------------------------------------------------------------


def test_it_never_stores_the_raw_key(org):
    key, raw = api_key_create(organization=org, name="ci")
    _, prefix, secret = raw.split("_", 2)

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiKey._meta.db_table}")  # noqa: S608 - a model's own table name
        rows = cursor.fetchall()

    stored = " ".join(str(value) for row in rows for value in row)
    assert raw not in stored
    assert secret not in stored
    assert key.prefix == prefix and prefix in stored
    assert key.hashed_secret == hashlib.sha256(raw.encode()).hexdigest()


def test_it_makes_a_different_secret_every_time(org):
    raws = {api_key_create(organization=org)[1] for _ in range(5)}

    assert len(raws) == 5
    assert len({raw.split("_")[1] for raw in raws}) == 5


def test_it_refuses_an_unknown_scope(org):
    with pytest.raises(ValidationError):
        api_key_create(organization=org, scopes=["identities", "everything"])
    assert not ApiKey.objects.exists()
