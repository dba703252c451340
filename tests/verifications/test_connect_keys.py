"""With the provider's JWKS configured, a plain-JWT userInfo must carry a valid signature."""

from __future__ import annotations

import json

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import override_settings

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/processes"
CLAIMS = {"given_name": "Eva", "family_name": "Lind", "gender": "female", "signicat.national_id": "19900101-1234"}


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwks(private_key, kid="k1"):
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(private_key.public_key()))
    return {"keys": [{**public, "kid": kid, "alg": "RS256", "use": "sig"}]}


def _finish(api, callback, user_info):
    process_id = api.post(URL, {"provider": "connect:idin"}, format="json").json()["processId"]
    callback("connect", {"processId": process_id, "event": "finished", "providerSpecific": {"userInfo": user_info}})
    return api.get(f"{URL}/{process_id}").json()


def test_it_accepts_a_userinfo_jwt_signed_with_a_configured_key(api, callback):
    key = _key()
    token = jwt.encode(CLAIMS, key, algorithm="RS256", headers={"kid": "k1"})
    with override_settings(PROVIDER_JWKS={"connect": _jwks(key)}):
        body = _finish(api, callback, token)
    assert body["status"] == "accepted"
    assert body["finalResult"]["firstName"] == "Eva"
    assert body["finalResult"]["personalIdentificationNumber"] == "19900101-1234"


def test_it_rejects_a_userinfo_jwt_signed_with_another_key(api, callback):
    token = jwt.encode(CLAIMS, _key(), algorithm="RS256", headers={"kid": "k1"})
    with override_settings(PROVIDER_JWKS={"connect": _jwks(_key())}):
        body = _finish(api, callback, token)
    assert body["status"] == "rejected"
    assert "finalResult" not in body


def test_it_decodes_without_checking_when_no_keys_are_configured_in_local_and_test_settings(api, callback):
    token = jwt.encode(CLAIMS, _key(), algorithm="RS256", headers={"kid": "k1"})
    body = _finish(api, callback, token)
    assert body["status"] == "accepted"
    assert body["finalResult"]["lastName"] == "Lind"


# Issue 15 / API.md "Provider mapping": outside local and test settings (production), a userInfo
# JWT must verify; without connect's keys the provider cannot be used there.
@pytest.fixture
def production_like(settings):
    settings.CONNECT_UNVERIFIED_JWT_ALLOWED = False
    settings.PROVIDER_JWKS = {}
    return settings


@pytest.mark.parametrize("provider", ["connect", "connect:idin"])
def test_it_refuses_to_create_a_connect_process_without_keys_where_unverified_jwts_are_not_allowed(
    api, production_like, provider
):
    response = api.post(URL, {"provider": provider}, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "provider"
    assert "PROVIDER_JWKS" in error["message"]


def test_it_creates_connect_processes_once_the_keys_are_configured(api, production_like):
    production_like.PROVIDER_JWKS = {"connect": _jwks(_key())}
    assert api.post(URL, {"provider": "connect:idin"}, format="json").status_code == 201


def test_it_fails_rather_than_trusts_a_plain_jwt_arriving_without_keys(api, callback, org, production_like):
    # A process created before the keys went missing (or before this rule): its JWT is not read.
    production_like.CONNECT_UNVERIFIED_JWT_ALLOWED = True
    process_id = api.post(URL, {"provider": "connect:idin"}, format="json").json()["processId"]
    production_like.CONNECT_UNVERIFIED_JWT_ALLOWED = False
    forged = jwt.encode({**CLAIMS, "given_name": "Mallory"}, _key(), algorithm="RS256", headers={"kid": "k1"})

    response = callback(
        "connect", {"processId": process_id, "event": "finished", "providerSpecific": {"userInfo": forged}}
    )

    assert response.status_code == 200
    body = api.get(f"{URL}/{process_id}").json()
    assert body["status"] == "failed"
    assert body["failReason"]["type"] == "unverifiable_userinfo"
    assert "finalResult" not in body


def test_it_warns_at_startup_when_connect_has_no_keys(production_like, caplog):
    from django.apps import apps

    with caplog.at_level("WARNING", logger="apps.verifications"):
        apps.get_app_config("verifications").ready()
    assert "Connect processes are refused" in caplog.text
    assert "PROVIDER_JWKS" in caplog.text

    caplog.clear()
    production_like.PROVIDER_JWKS = {"connect": _jwks(_key())}
    with caplog.at_level("WARNING", logger="apps.verifications"):
        apps.get_app_config("verifications").ready()
    assert "Connect processes are refused" not in caplog.text
