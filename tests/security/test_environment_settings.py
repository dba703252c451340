"""Settings read from the environment (config/settings/environment.py).

The documented forms start the portal; a malformed value stops `manage.py` with one line on
stderr that names the variable and the form it wants, never a parser traceback and never the
value (it may be a secret). Each case starts the real settings module in a fresh interpreter
with the variable set, as a deployment would: no override_settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings
from hypothesis import given
from hypothesis import strategies as st

from config.settings.environment import Malformed, provider_secrets, request_rate
from tests.security.test_production_settings import production_env

PROBE = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    from django.conf import settings
    print(json.dumps({name: getattr(settings, name) for name in (
        "PROVIDER_SECRETS", "PROVIDER_JWKS", "API_RATE_LIMIT", "SESSION_STATUS_RATE_LIMIT", "DEBUG",
        "LOGIN_MAX_ATTEMPTS", "FIELD_HMAC_KEY", "PUBLIC_BASE_URL")}))
    """
)


def plain_env(module: str, tmp_path, **extra: str) -> dict[str, str]:
    if module == "config.settings.production":
        env = production_env(tmp_path)
    else:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
        env["DJANGO_SETTINGS_MODULE"] = module
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'db.sqlite3'}"
        env.pop("REDIS_URL", None)
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def started(env: dict[str, str]) -> dict:
    result = run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def refused(env: dict[str, str]) -> str:
    """`manage.py check` fails with exactly one line on stderr; that line."""
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


SETTINGS_MODULES = ["config.settings.local", "config.settings.test", "config.settings.production"]


# --- PROVIDER_SECRETS ------------------------------------------------------------------------


@pytest.mark.parametrize("module", SETTINGS_MODULES)
def test_provider_secrets_in_the_documented_name_colon_secret_form_start_every_settings_module(tmp_path, module):
    env = plain_env(module, tmp_path, PROVIDER_SECRETS="readid:r34d-1d,facetec:f4c3")

    assert started(env)["PROVIDER_SECRETS"] == {"readid": "r34d-1d", "facetec": "f4c3"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # name=secret, as django-environ's dict form has it
        ("signicatpaper=p4per,connect=c0nn", {"signicatpaper": "p4per", "connect": "c0nn"}),
        # both forms mixed; a secret holding the other separator, or its own, splits at the first only
        ("eid:a=b=c,onfido=x:y:z", {"eid": "a=b=c", "onfido": "x:y:z"}),
        # whitespace around entries, names and secrets is dropped; a trailing comma is harmless
        (" eid : s3cret , readid= r ,", {"eid": "s3cret", "readid": "r"}),
        # names are provider names, matched in lower case
        ("OnFido:K", {"onfido": "K"}),
    ],
)
def test_provider_secrets_accept_both_separators_and_split_at_the_first(tmp_path, value, expected):
    assert started(plain_env("config.settings.local", tmp_path, PROVIDER_SECRETS=value))["PROVIDER_SECRETS"] == expected


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("eid-without-separator", "entry 1 has no ':' or '='"),
        ("onfido:ok,hunter2", "entry 2 has no ':' or '='"),
        ("facetec:", "the secret of facetec is empty"),
        (":hunter2", "entry 1 does not start with a provider name"),
        ("on fido:hunter2", "entry 1 does not start with a provider name"),
        ("eid:one,eid:two", "eid is given twice"),
    ],
)
@pytest.mark.parametrize("module", ["config.settings.local", "config.settings.production"])
def test_a_malformed_provider_secrets_stops_manage_py_with_one_line_naming_the_form(tmp_path, module, value, reason):
    line = refused(plain_env(module, tmp_path, PROVIDER_SECRETS=value))

    assert line.startswith("Configuration error: PROVIDER_SECRETS is malformed")
    assert f"({reason})" in line
    assert "onfido:xxx,eid:yyy" in line  # the expected form
    assert "hunter2" not in line  # never the value: it holds secrets


_SECRET_TEXT = st.text(
    alphabet=st.characters(blacklist_characters=",", blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1
)


@given(st.dictionaries(st.sampled_from(["onfido", "eid", "readid", "connect"]), _SECRET_TEXT, min_size=1))
def test_provider_secrets_parse_any_secret_without_a_comma(secrets):
    """Property: whatever a secret holds (':' and '=' included), it comes back as written."""
    for separator in (":", "="):
        text = ",".join(f"{name}{separator}{secret}" for name, secret in secrets.items())
        assert provider_secrets(text) == {name: secret.strip() for name, secret in secrets.items()}


# --- Rates, JSON, numbers, booleans, URLs -----------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("API_RATE_LIMIT", "600/fortnight"),
        ("API_RATE_LIMIT", "lots"),
        ("API_RATE_LIMIT", "0/min"),
        ("SESSION_STATUS_RATE_LIMIT", "10"),
        ("SESSION_STATUS_RATE_LIMIT", "ten/s"),
    ],
)
def test_a_malformed_rate_stops_startup_instead_of_failing_the_first_request(tmp_path, variable, value):
    line = refused(plain_env("config.settings.local", tmp_path, **{variable: value}))

    assert f"{variable} is malformed" in line
    assert "e.g. 600/min" in line


def test_rates_in_drf_and_spelled_out_forms_start_the_portal(tmp_path):
    seen = started(
        plain_env("config.settings.test", tmp_path, API_RATE_LIMIT="1200 / minute", SESSION_STATUS_RATE_LIMIT="5/S")
    )

    assert (seen["API_RATE_LIMIT"], seen["SESSION_STATUS_RATE_LIMIT"]) == ("1200/min", "5/s")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ('{"connect": ', "not JSON"),
        ('[{"keys": []}]', "not a JSON object"),
        ('{"connect": {"kid": "x"}}', 'connect has no "keys" list'),
        ('{"connect": {"keys": [{"kty": "RSA", "n": "bad"}]}}', "connect has no usable key"),
    ],
)
def test_a_malformed_provider_jwks_stops_startup_with_one_line(tmp_path, value, reason):
    line = refused(plain_env("config.settings.local", tmp_path, PROVIDER_JWKS=value))

    assert line.startswith("Configuration error: PROVIDER_JWKS is malformed")
    assert f"({reason})" in line
    assert '{"connect": {"keys": [...]}}' in line


def test_a_usable_jwks_starts_the_portal(tmp_path):
    jwks = {"connect": {"keys": [{"kty": "oct", "kid": "k1", "k": "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0"}]}}

    assert (
        started(plain_env("config.settings.local", tmp_path, PROVIDER_JWKS=json.dumps(jwks)))["PROVIDER_JWKS"] == jwks
    )


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("LOGIN_MAX_ATTEMPTS", "five", "a whole number"),
        ("SESSION_DATA_RETENTION_SECONDS", "1.5", "a whole number"),
        ("DEBUG", "ture", "true or false"),
        ("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "maybe", "true or false"),
        ("DATABASE_URL", "postgress://portal:hunter2@db/portal", "a database URL"),
        ("DATABASE_URL", "postgres://portal:hunter2@db:port/portal", "a database URL"),
        ("REDIS_URL", "127.0.0.1:6379", "a redis:// or rediss:// URL"),
        ("PUBLIC_BASE_URL", "portal.example.com", "an http(s) URL"),
        ("LOG_LEVEL", "chatty", "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
        ("FIELD_ENCRYPTION_KEYS", "hunter2-is-not-a-fernet-key", "Fernet keys"),
    ],
)
def test_every_malformed_value_stops_startup_with_one_line_naming_the_variable(tmp_path, variable, value, expected):
    line = refused(plain_env("config.settings.local", tmp_path, **{variable: value}))

    assert f"{variable} is malformed" in line
    assert f"expected {expected}" in line
    assert "hunter2" not in line


def test_production_refuses_a_malformed_boolean_that_would_switch_hardening_off(tmp_path):
    """django-environ alone reads "flase" as false: the SSL redirect would be off without a word."""
    line = refused(plain_env("config.settings.production", tmp_path, SECURE_SSL_REDIRECT="flase"))

    assert "SECURE_SSL_REDIRECT is malformed" in line


def test_production_names_a_missing_required_variable_in_one_line(tmp_path):
    env = plain_env("config.settings.production", tmp_path)
    del env["SECRET_KEY"]

    assert refused(env) == "Configuration error: Set the SECRET_KEY environment variable"


def test_an_empty_value_counts_as_unset(tmp_path):
    """compose passes `${NAME:-}` for what the operator left out: the defaults apply."""
    env = plain_env(
        "config.settings.production",
        tmp_path,
        FIELD_HMAC_KEY="",
        API_RATE_LIMIT="",
        PROVIDER_SECRETS=" ",
        LOGIN_MAX_ATTEMPTS="",
        PUBLIC_BASE_URL="",
    )
    seen = started(env)

    assert seen["FIELD_HMAC_KEY"]  # derived from SECRET_KEY, not the empty string
    assert (seen["API_RATE_LIMIT"], seen["PROVIDER_SECRETS"], seen["LOGIN_MAX_ATTEMPTS"]) == ("600/min", {}, 5)
    assert seen["PUBLIC_BASE_URL"] == "http://127.0.0.1:8000"


def test_an_empty_required_variable_is_refused_like_a_missing_one(tmp_path):
    line = refused(plain_env("config.settings.production", tmp_path, ALLOWED_HOSTS=""))

    assert "Set the ALLOWED_HOSTS environment variable" in line


# --- The parsers themselves -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rate"),
    [("600/min", "600/min"), ("10/s", "10/s"), ("3/hour", "3/hour"), ("2 / days", "2/day"), ("7/M", "7/min")],
)
def test_rates_come_out_in_drf_syntax(text, rate):
    from rest_framework.throttling import SimpleRateThrottle

    assert request_rate(text) == rate
    assert SimpleRateThrottle.parse_rate(None, rate)[0] == int(rate.split("/")[0])


@pytest.mark.parametrize("text", ["", "/min", "10/", "10/week", "-1/s", "1.5/s", "10 per minute", "10/s/s"])
def test_rates_refuse_anything_else(text):
    with pytest.raises(Malformed):
        request_rate(text)


@pytest.mark.parametrize(
    ("variable", "value", "read", "line"),
    [
        (
            "PORTS",
            "80,http",
            lambda env: env.list("PORTS", cast=int),
            "PORTS is malformed: expected comma-separated values, each a whole number.",
        ),
        ("RATIO", "", lambda env: env.float("RATIO"), "Set the RATIO environment variable (it is empty)."),
        ("DOC", "{'single': 'quotes'}", lambda env: env.json("DOC"), "DOC is malformed: expected a JSON document."),
    ],
)
def test_env_names_the_form_for_any_cast(monkeypatch, variable, value, read, line):
    from django.core.exceptions import ImproperlyConfigured

    from config.settings.environment import Env

    monkeypatch.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured) as caught:
        read(Env())

    assert str(caught.value) == line
