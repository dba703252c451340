"""The Connect connector's ID token check (apps.verifications.connectors.connect.id_token_claims):
signature against the provider's JWKS, iss, aud, exp (required, 60 s leeway) and nonce.
tests/verifications/test_handoff_connect.py drives the whole flow against a real provider; these
are the claims a provider could get wrong, one at a time."""

from __future__ import annotations

import time

import pytest
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet, RSAKey

from apps.verifications.connectors.connect import id_token_claims

ISSUER = "https://accounts.example.com"
CLIENT = "portal-client"
NONCE = "n-0S6_WzA2Mj"
KEY = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256", "use": "sig"}, private=True)
JWKS = KeySet([KEY]).as_dict(private=False)


def _token(key: RSAKey = KEY, **overrides) -> str:
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": CLIENT, "sub": "248289761001", "iat": now, "exp": now + 300, "nonce": NONCE}
    claims.update(overrides)
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


def _check(token: str) -> dict:
    return id_token_claims(token, jwks=JWKS, issuer=ISSUER, client_id=CLIENT, nonce=NONCE)


def test_a_valid_token_gives_its_claims():
    assert _check(_token())["sub"] == "248289761001"


def test_a_token_expired_within_the_leeway_still_passes():
    assert _check(_token(exp=int(time.time()) - 30))["sub"] == "248289761001"


@pytest.mark.parametrize(
    "overrides",
    [
        {"exp": int(time.time()) - 120},  # expired past the 60 s leeway
        {"exp": None},  # no exp at all
        {"iss": "https://evil.example.com"},
        {"aud": "another-client"},
        {"nonce": "replayed-nonce"},
        {"nonce": None},
    ],
    ids=["expired", "no-exp", "wrong-iss", "wrong-aud", "wrong-nonce", "no-nonce"],
)
def test_a_wrong_claim_is_refused(overrides):
    with pytest.raises(JoseError):
        _check(_token(**overrides))


def test_a_token_signed_with_another_key_is_refused():
    other = RSAKey.generate_key(2048, parameters={"kid": "k1", "alg": "RS256"}, private=True)

    with pytest.raises(JoseError):
        _check(_token(key=other))
