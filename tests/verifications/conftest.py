from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import override_settings

SECRETS = {
    "onfido": "onfido-secret",
    "eid": "eid-secret",
    "readid": "readid-secret",
    "facetec": "facetec-secret",
    "signicatpaper": "paper-secret",
    "connect": "connect-secret",
    "sandbox": "sandbox-secret",
}


@pytest.fixture(autouse=True)
def _provider_secrets():
    with override_settings(PROVIDER_SECRETS=SECRETS):
        yield


@pytest.fixture
def callback(client):
    """POST a signed provider callback, as the provider would."""

    def post(provider: str, body: dict, *, secret: str | None = None, signature: str | None = None):
        raw = json.dumps(body).encode()
        key = (secret or SECRETS[provider]).encode()
        header = signature if signature is not None else "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest()
        return client.post(
            f"/api/v1/providers/{provider}/callback",
            raw,
            content_type="application/json",
            HTTP_X_PROVIDER_SIGNATURE=header,
        )

    return post
