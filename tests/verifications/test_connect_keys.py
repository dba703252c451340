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


def test_it_decodes_without_checking_when_no_keys_are_configured(api, callback):
    token = jwt.encode(CLAIMS, _key(), algorithm="RS256", headers={"kid": "k1"})
    body = _finish(api, callback, token)
    assert body["status"] == "accepted"
    assert body["finalResult"]["lastName"] == "Lind"
