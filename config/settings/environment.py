"""Environment values for the settings, each refused with one clear line when malformed.

django-environ raises whatever its cast raises: a ValueError from int(), a JSON decoding
error, an unpacking error from its dict syntax. A deployment with one mistyped variable
would stop with a parser traceback that names neither the variable nor the form it wants.
`Env` turns every such failure into ImproperlyConfigured with one line naming the variable
and the expected form, never the value (it may be a secret); manage.py prints that line
alone (tests/security/test_environment_settings.py).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Callable
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured


class Malformed(ValueError):
    """Raised by the parsers below with a reason that never quotes the value."""


def expects(form: str) -> Callable[[Callable[[str], Any]], Callable[[str], Any]]:
    """Attach the expected form (shown in the error line) to a parser."""

    def attach(parse: Callable[[str], Any]) -> Callable[[str], Any]:
        parse.expected = form  # type: ignore[attr-defined]
        return parse

    return attach


# django-environ's own casts and the forms they want.
_EXPECTED = {
    int: "a whole number",
    float: "a number",
    bool: "true or false (or 1/0, yes/no, on/off)",
    json.loads: "a JSON document",
    dict: "name=value pairs separated by commas",
}
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


class Env(environ.Env):
    """django-environ with one-line errors, strict booleans and empty values counting as unset.

    An empty value counts as unset: compose passes `${NAME:-}` for every variable the operator
    left out, and an empty key or list must not replace a working default."""

    def get_value(
        self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET, parse_default: bool = False
    ) -> Any:
        if not self.ENVIRON.get(var, "unset").strip():
            if default is self.NOTSET:
                raise ImproperlyConfigured(f"Set the {var} environment variable (it is empty).")
            return self._default(var, cast, default, parse_default)
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ImproperlyConfigured:
            raise
        except Exception as exc:  # any parser failure becomes the one line below
            raise malformed(var, cast, exc) from None

    def _default(self, var: str, cast: Any, default: Any, parse_default: bool) -> Any:
        if parse_default and default is not None:
            try:
                return self.parse_value(default, cast)
            except Exception as exc:
                raise malformed(var, cast, exc) from None
        return default

    @classmethod
    def parse_value(cls, value: Any, cast: Any) -> Any:
        if cast is bool and isinstance(value, str):
            # django-environ reads any unknown word as false: "ture" would switch a protection off.
            word = value.strip().lower()
            if word in _TRUE:
                return True
            if word in _FALSE:
                return False
            raise Malformed("")
        return super().parse_value(value, cast)

    def db_url(
        self, var: str = "DATABASE_URL", default: Any = environ.Env.NOTSET, engine: Any = None
    ) -> dict[str, Any]:
        expected = "a database URL, e.g. postgres://user:password@host:5432/name"
        config = _url_config(var, expected, lambda: super(Env, self).db_url(var, default=default, engine=engine))
        if config.get("ENGINE") not in self.DB_SCHEMES.values():
            raise ImproperlyConfigured(f"{var} is malformed (unknown scheme): expected {expected}.")
        return config

    db = db_url

    def email_url(
        self, var: str = "EMAIL_URL", default: Any = environ.Env.NOTSET, backend: Any = None
    ) -> dict[str, Any]:
        return _url_config(
            var,
            "an email URL, e.g. smtp+tls://user:password@smtp.example.com:587",
            lambda: super(Env, self).email_url(var, default=default, backend=backend),
        )

    email = email_url


def _url_config(var: str, expected: str, parse: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        # django-environ warns about an unknown scheme by printing the parsed URL, password included.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return parse()
    except ImproperlyConfigured as exc:
        if str(exc).startswith("Set the "):
            raise
        raise ImproperlyConfigured(f"{var} is malformed: expected {expected}.") from None
    except Exception:  # a bad port, an unparsable host
        raise ImproperlyConfigured(f"{var} is malformed: expected {expected}.") from None


def expected_form(cast: Any) -> str:
    if isinstance(cast, list | tuple) and cast:  # env.list(..., cast=int) passes [int]
        return f"comma-separated values, each {expected_form(cast[0])}"
    if getattr(cast, "expected", None):
        return cast.expected
    try:
        return _EXPECTED.get(cast, "a valid value")
    except TypeError:  # an unhashable cast, e.g. django-environ's dict scheme
        return "a valid value"


def malformed(var: str, cast: Any, exc: Exception) -> ImproperlyConfigured:
    expected = expected_form(cast)
    reason = f" ({exc})" if isinstance(exc, Malformed) and str(exc) else ""
    return ImproperlyConfigured(f"{var} is malformed{reason}: expected {expected}.")


# --- Parsers for the portal's own forms --------------------------------------------------

_PROVIDER_NAME = re.compile(r"[a-z][a-z0-9_-]*", re.ASCII)


@expects(
    "provider:secret pairs separated by commas, e.g. onfido:xxx,eid:yyy (onfido=xxx works too; "
    "a secret may hold ':' or '=' but not a comma)"
)
def provider_secrets(value: str) -> dict[str, str]:
    """`onfido:xxx,eid:yyy` or `onfido=xxx,eid=yyy` → {"onfido": "xxx", "eid": "yyy"}.

    Each entry splits at its first ':' or '=', so a secret may contain either. Whitespace
    around names and secrets is dropped and empty entries (a trailing comma) are skipped; a
    name is a lowercase provider name; an empty secret is refused (an HMAC under an empty
    key proves nothing)."""
    secrets: dict[str, str] = {}
    entries = [entry.strip() for entry in value.split(",")]
    for number, entry in enumerate(entries, start=1):
        if not entry:
            continue
        separator = re.search(r"[:=]", entry)
        if separator is None:
            raise Malformed(f"entry {number} has no ':' or '='")
        name = entry[: separator.start()].strip().lower()
        secret = entry[separator.end() :].strip()
        if not _PROVIDER_NAME.fullmatch(name):
            raise Malformed(f"entry {number} does not start with a provider name")
        if not secret:
            raise Malformed(f"the secret of {name} is empty")
        if name in secrets:
            raise Malformed(f"{name} is given twice")
        secrets[name] = secret
    return secrets


@expects('a JSON object of provider name to JWKS document, e.g. {"connect": {"keys": [...]}}')
def provider_jwks(value: str) -> dict[str, Any]:
    """Providers' public keys; every document must hold at least one key PyJWT can use, so a
    callback never meets a key set it cannot read."""
    import jwt

    try:
        documents = json.loads(value)
    except ValueError:
        raise Malformed("not JSON") from None
    if not isinstance(documents, dict):
        raise Malformed("not a JSON object")
    for name, document in documents.items():
        if not _PROVIDER_NAME.fullmatch(name):
            raise Malformed("a key is not a provider name")
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise Malformed(f'{name} has no "keys" list')
        try:
            jwt.PyJWKSet.from_dict(document)
        except (jwt.PyJWTError, ValueError, TypeError, KeyError):
            raise Malformed(f"{name} has no usable key") from None
    return documents


@expects("Fernet keys (32 url-safe base64-encoded bytes each) separated by commas, newest first")
def fernet_keys(value: str) -> list[str]:
    """The personal-data keys, each checked now rather than at the first encryption."""
    from cryptography.fernet import Fernet

    keys = [key.strip() for key in value.split(",") if key.strip()]
    for number, key in enumerate(keys, start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise Malformed(f"key {number} is not a Fernet key") from None
    return keys


_RATE = re.compile(r"(\d+)\s*/\s*(s|sec|second|m|min|minute|h|hour|d|day)s?", re.ASCII | re.IGNORECASE)
_RATE_UNITS = {"s": "s", "m": "min", "h": "hour", "d": "day"}


@expects("a number of requests per second, minute, hour or day, e.g. 600/min or 10/s")
def request_rate(value: str) -> str:
    """`600/min`, `10 / second`, `5/hours` → DRF's rate syntax (`600/min`), which reads only the
    period's first letter and would otherwise fail at the first request instead of at startup."""
    match = _RATE.fullmatch(value.strip())
    if match is None:
        raise Malformed("")
    number = int(match[1])
    if number < 1:
        raise Malformed("the number must be at least 1")
    return f"{number}/{_RATE_UNITS[match[2][0].lower()]}"


@expects("an http(s) URL, e.g. https://portal.example.com")
def base_url(value: str) -> str:
    """The portal's public address, without a trailing slash."""
    value = value.strip().rstrip("/")
    if not re.fullmatch(r"https?://[^/\s?#]+(/[^\s?#]*)?", value, re.ASCII):
        raise Malformed("")
    return value


@expects("a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0")
def redis_url(value: str) -> str:
    value = value.strip()
    if not re.fullmatch(r"(rediss?|unix)://\S+", value, re.ASCII):
        raise Malformed("")
    return value


@expects("DEBUG, INFO, WARNING, ERROR or CRITICAL")
def log_level(value: str) -> str:
    level = value.strip().upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise Malformed("")
    return level


@expects(
    "an RSA private key in PEM form (-----BEGIN PRIVATE KEY----- ...), 2048 bits or more, with real "
    "newlines or \\n between its lines"
)
def rsa_private_key(value: str) -> str:
    """The OpenID Connect signing key (RS256): checked now, not at the first ID token."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    pem = value.replace("\\n", "\n").strip()
    try:
        key = serialization.load_pem_private_key(pem.encode(), password=None)
    except (ValueError, TypeError):
        raise Malformed("not an unencrypted PEM private key") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise Malformed("not an RSA key")
    if key.key_size < 2048:
        raise Malformed("shorter than 2048 bits")
    return pem + "\n"
