"""The production settings: `check --deploy` is clean, and requests get HTTPS-only behaviour.

Each check runs in a fresh interpreter with config.settings.production and the environment a
deployment sets (docs/deployment.md), so nothing of the test settings leaks in.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap

import pytest
from cryptography.fernet import Fernet
from django.conf import settings


def production_env(tmp_path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTEST_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "DEBUG", "SECURE_SSL_REDIRECT"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="portal.example.com",
        FIELD_ENCRYPTION_KEYS=f"{Fernet.generate_key().decode()},{Fernet.generate_key().decode()}",
        FIELD_HMAC_KEY=secrets.token_urlsafe(32),
        OIDC_RSA_PRIVATE_KEY=settings.OIDC_RSA_PRIVATE_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        STATIC_ROOT=str(tmp_path / "static"),
        # Real delivery (an SMTP server's address; files for SMS): the console backends are refused.
        EMAIL_URL="smtp://127.0.0.1:1025",
        SMS_BACKEND="file",
        SMS_FILE_PATH=str(tmp_path / "sms"),
    )
    for name in ("EMAIL_BACKEND", "EMAIL_FILE_PATH"):
        env.pop(name, None)
    env.update(extra)
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120
    )


def test_check_deploy_is_clean(tmp_path):
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], production_env(tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_catches_a_weak_setup(tmp_path):
    """Control: the same check fails when hardening is switched off, so the clean run means something."""
    env = production_env(tmp_path, SECURE_SSL_REDIRECT="false", SECURE_HSTS_SECONDS="0")
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W008" in result.stderr + result.stdout
    assert "security.W004" in result.stderr + result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS"])
def test_required_settings_have_no_defaults(tmp_path, missing):
    env = production_env(tmp_path)
    del env[missing]
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert missing in result.stderr


PROBE = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.test.utils import setup_test_environment
    setup_test_environment()
    client = Client()
    plain = client.get("/api/v1/personal-details")
    secure = client.get("/api/v1/personal-details", HTTP_X_FORWARDED_PROTO="https")
    health = client.get("/healthz")
    print(json.dumps({
        "plain": [plain.status_code, plain.get("Location", "")],
        "secure": [secure.status_code, dict(secure.items())],
        "health": health.status_code,
        "settings": {name: getattr(settings, name) for name in (
            "DEBUG", "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE",
            "SECURE_HSTS_SECONDS", "X_FRAME_OPTIONS", "WEBHOOKS_REQUIRE_HTTPS")},
    }))
    """
)


def test_requests_under_production_settings(tmp_path):
    env = production_env(tmp_path, ALLOWED_HOSTS="testserver")
    result = run(["-c", PROBE], env)
    assert result.returncode == 0, result.stderr
    seen = json.loads(result.stdout.strip().splitlines()[-1])

    # Plain http is sent to https; /healthz is exempt (load balancers and health checks use http).
    assert seen["plain"] == [301, "https://testserver/api/v1/personal-details"]
    assert seen["health"] != 301

    status, headers = seen["secure"]
    assert status == 200
    assert headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert seen["settings"] == {
        "DEBUG": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "X_FRAME_OPTIONS": "DENY",
        "WEBHOOKS_REQUIRE_HTTPS": True,
    }


# Issue 15: the sandbox and unverified Connect JWTs are development conveniences only.
SANDBOX_PROBE = textwrap.dedent(
    """
    import json
    import django
    django.setup()
    from django.conf import settings
    print(json.dumps({name: getattr(settings, name) for name in (
        "SANDBOX_ENABLED", "CONNECT_UNVERIFIED_JWT_ALLOWED", "ACTIVITIES_BIOFACE_PROVIDER")}))
    """
)


def test_production_has_no_sandbox_and_never_reads_an_unverified_connect_jwt(tmp_path):
    # Even asked for by the environment, production does not decode unverified JWTs.
    result = run(["-c", SANDBOX_PROBE], production_env(tmp_path, CONNECT_UNVERIFIED_JWT_ALLOWED="true"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "SANDBOX_ENABLED": False,
        "CONNECT_UNVERIFIED_JWT_ALLOWED": False,
        "ACTIVITIES_BIOFACE_PROVIDER": "facetec",
    }


def test_production_refuses_to_start_with_a_sandbox_face_check(tmp_path):
    result = run(["manage.py", "check"], production_env(tmp_path, ACTIVITIES_BIOFACE_PROVIDER="sandbox"))
    assert result.returncode != 0
    assert "ACTIVITIES_BIOFACE_PROVIDER=sandbox needs SANDBOX_ENABLED=true" in result.stderr


def test_production_says_at_startup_that_connect_is_refused_without_its_keys(tmp_path):
    without = run(["manage.py", "check"], production_env(tmp_path))
    assert without.returncode == 0, without.stderr
    assert "Connect processes are refused: no JWKS is configured for connect (PROVIDER_JWKS)" in without.stderr

    jwks = json.dumps({"connect": {"keys": [{"kty": "oct", "k": "c2VjcmV0LWtleS1mb3ItdGVzdHM", "kid": "k1"}]}})
    with_keys = run(["manage.py", "check"], production_env(tmp_path, PROVIDER_JWKS=jwks))
    assert with_keys.returncode == 0, with_keys.stderr
    assert "Connect processes are refused" not in with_keys.stderr


# --- Email and SMS must deliver (issue 15, finding 7) ------------------------------------------------

SETTINGS_PROBE = (
    "import json, django; django.setup(); from django.conf import settings; "
    "print(json.dumps([settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT, settings.SMS_BACKEND]))"
)


def _refusal(result: subprocess.CompletedProcess) -> str:
    """The one line that says why the settings refused to load."""
    assert result.returncode != 0, result.stdout
    lines = result.stderr.strip().splitlines()
    # manage.py prints the one line alone; an import of the settings elsewhere ends its traceback with it.
    if len(lines) == 1:
        assert lines[0].startswith("Configuration error: "), result.stderr
        return lines[0].removeprefix("Configuration error: ")
    assert lines[-1].startswith("django.core.exceptions.ImproperlyConfigured: "), result.stderr
    return lines[-1].removeprefix("django.core.exceptions.ImproperlyConfigured: ")


def test_production_starts_with_an_smtp_url_and_file_sms(tmp_path):
    result = run(["-c", SETTINGS_PROBE], production_env(tmp_path))

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [
        "django.core.mail.backends.smtp.EmailBackend",
        "127.0.0.1",
        1025,
        "file",
    ]


def test_production_starts_with_an_explicit_file_email_backend(tmp_path):
    env = production_env(
        tmp_path,
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SMS_BACKEND="apps.identifications.sms.FileSmsBackend",
    )
    del env["EMAIL_URL"]

    result = run(["-c", SETTINGS_PROBE], env)

    assert result.returncode == 0, result.stderr
    backend, _, _, sms = json.loads(result.stdout.strip().splitlines()[-1])
    assert (backend, sms) == (
        "django.core.mail.backends.filebased.EmailBackend",
        "apps.identifications.sms.FileSmsBackend",
    )


def test_production_refuses_to_start_without_email_settings(tmp_path):
    env = production_env(tmp_path)
    del env["EMAIL_URL"]

    reason = _refusal(run(["manage.py", "check"], env))

    assert reason.startswith("EMAIL_URL is not set")


@pytest.mark.parametrize(
    "email",
    [
        {"EMAIL_URL": "consolemail://"},
        {"EMAIL_URL": "", "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend"},
        {"EMAIL_URL": "", "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"},
        {"EMAIL_URL": "dummymail://"},
    ],
    ids=["console-url", "console-backend", "locmem-backend", "dummy-url"],
)
def test_production_refuses_an_email_backend_that_delivers_nothing(tmp_path, email):
    reason = _refusal(run(["manage.py", "check"], production_env(tmp_path, **email)))

    assert reason.startswith("EMAIL_BACKEND is django.core.mail.backends.")
    assert "delivers nothing" in reason


def test_production_refuses_a_malformed_email_url_in_one_line(tmp_path):
    reason = _refusal(run(["manage.py", "check"], production_env(tmp_path, EMAIL_URL="not a url at all")))

    assert reason.startswith("EMAIL_URL is not an email URL")


@pytest.mark.parametrize("sms", [None, "", "console", "locmem"], ids=["unset", "empty", "console", "locmem"])
def test_production_refuses_to_start_without_a_real_sms_backend(tmp_path, sms):
    env = production_env(tmp_path)
    if sms is None:
        del env["SMS_BACKEND"]
    else:
        env["SMS_BACKEND"] = sms

    reason = _refusal(run(["manage.py", "check"], env))

    assert reason.startswith(f"SMS_BACKEND is {sms or 'not set'}")
