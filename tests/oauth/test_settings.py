"""OIDC_RSA_PRIVATE_KEY: production requires it, and a malformed one stops startup with one line
naming the variable and the form it wants, never the value (config/settings/environment.py)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from config.settings.environment import Malformed, rsa_private_key
from tests.security.test_environment_settings import plain_env, refused


def _pem(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_production_refuses_to_start_without_the_key(tmp_path):
    env = plain_env("config.settings.production", tmp_path)
    del env["OIDC_RSA_PRIVATE_KEY"]

    assert refused(env) == "Configuration error: Set the OIDC_RSA_PRIVATE_KEY environment variable"


def test_a_malformed_key_is_one_line_without_the_value(tmp_path):
    line = refused(plain_env("config.settings.production", tmp_path, OIDC_RSA_PRIVATE_KEY="hunter2-not-a-key"))

    assert line.startswith("Configuration error: OIDC_RSA_PRIVATE_KEY is malformed")
    assert "RSA private key in PEM form" in line
    assert "hunter2" not in line


def test_the_key_may_come_with_escaped_newlines():
    pem = _pem(rsa.generate_private_key(public_exponent=65537, key_size=2048))

    assert rsa_private_key(pem.replace("\n", "\\n")) == pem


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024), "shorter than 2048 bits"),  # noqa: S505 - the weak key refused
        (lambda: ec.generate_private_key(ec.SECP256R1()), "not an RSA key"),
    ],
    ids=["short", "ec"],
)
def test_a_weak_or_foreign_key_is_refused(key, reason):
    with pytest.raises(Malformed, match=reason):
        rsa_private_key(_pem(key()))
