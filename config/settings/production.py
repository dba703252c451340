"""Production: secrets have no defaults; hardening lives here only.

Required: SECRET_KEY, ALLOWED_HOSTS, FIELD_ENCRYPTION_KEYS, OIDC_RSA_PRIVATE_KEY, DATABASE_URL, REDIS_URL, EMAIL_URL (or
EMAIL_BACKEND), SMS_BACKEND (see docs/deployment.md). TLS ends at the load balancer, which must set
X-Forwarded-Proto.
`manage.py check --deploy` is clean with these settings (tests/security/test_production_settings.py).
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import (
    ACTIVITIES_BIOFACE_PROVIDER,
    EMAIL_BACKEND,
    PUBLIC_BASE_URL,
    SANDBOX_ENABLED,
    derive_key,
    env,
    oauth2_provider_settings,
)
from .environment import fernet_keys, rsa_private_key

DEBUG = False
SECRET_KEY = env("SECRET_KEY")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
FIELD_ENCRYPTION_KEYS = env("FIELD_ENCRYPTION_KEYS", cast=fernet_keys)
FIELD_HMAC_KEY = env("FIELD_HMAC_KEY", default=derive_key(SECRET_KEY, "field-hmac"))
if not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
# Origins allowed to POST forms through a proxy that rewrites Host, e.g. https://portal.example.com
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Database connections -------------------------------------------------------------
# Persistent connections, checked before reuse (the database may have restarted).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- HTTPS ------------------------------------------------------------------------------
# The load balancer terminates TLS and says so in X-Forwarded-Proto; plain http is redirected,
# except /healthz, which load balancers and container health checks call over http.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# --- Cookies ----------------------------------------------------------------------------
SESSION_COOKIE_SECURE = True
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = True
LANGUAGE_COOKIE_SECURE = True
LANGUAGE_COOKIE_HTTPONLY = True

# --- Email and SMS ------------------------------------------------------------------------------
# Codes and links go to people: a backend that prints them (console), keeps them in memory
# (locmem) or drops them (dummy) would leak them to stdout or lose them, so production refuses
# to start without a real one. EMAIL_URL, e.g. smtp+tls://user:password@smtp.example.com:587
# (django-environ's email URL), or an explicit EMAIL_BACKEND (e.g. Django's file backend with
# EMAIL_FILE_PATH); SMS_BACKEND `file` (SMS_FILE_PATH) or the dotted path of a provider's backend.
_UNDELIVERED_EMAIL = {
    "django.core.mail.backends.console.EmailBackend",
    "django.core.mail.backends.locmem.EmailBackend",
    "django.core.mail.backends.dummy.EmailBackend",
}
if env("EMAIL_URL", default=""):
    try:
        vars().update(env.email_url("EMAIL_URL"))
    except Exception:  # django-environ's own error is a parser traceback
        raise ImproperlyConfigured(
            "EMAIL_URL is not an email URL: expected e.g. smtp+tls://user:password@smtp.example.com:587."
        ) from None
elif not env("EMAIL_BACKEND", default=""):
    raise ImproperlyConfigured(
        "EMAIL_URL is not set: production sends codes and links by email; set EMAIL_URL "
        "(e.g. smtp+tls://user:password@smtp.example.com:587) or a non-console EMAIL_BACKEND."
    )
if EMAIL_BACKEND in _UNDELIVERED_EMAIL:
    raise ImproperlyConfigured(
        f"EMAIL_BACKEND is {EMAIL_BACKEND}, which delivers nothing: set EMAIL_URL to an SMTP server "
        "or EMAIL_BACKEND to a backend that sends."
    )
SMS_BACKEND = env("SMS_BACKEND", default="")
if SMS_BACKEND in ("", "console", "locmem"):
    raise ImproperlyConfigured(
        f"SMS_BACKEND is {SMS_BACKEND or 'not set'}: production sends codes by SMS; set SMS_BACKEND to "
        "`file` (with SMS_FILE_PATH) or the dotted path of your provider's backend."
    )

# --- Integrations -----------------------------------------------------------------------
# Webhook and notification destinations must be https (and on public addresses, as in base).
WEBHOOKS_REQUIRE_HTTPS = True
# Connect's JWT userInfo must verify against PROVIDER_JWKS["connect"]; without those keys connect
# processes are refused (and a warning is logged at startup). No environment variable turns this off.
CONNECT_UNVERIFIED_JWT_ALLOWED = False
# The sandbox stays off (SANDBOX_ENABLED defaults to false), so the consent page's face check
# cannot be a sandbox process here.
if ACTIVITIES_BIOFACE_PROVIDER == "sandbox" and not SANDBOX_ENABLED:
    raise ImproperlyConfigured(
        "ACTIVITIES_BIOFACE_PROVIDER=sandbox needs SANDBOX_ENABLED=true; production uses facetec."
    )

# --- People's apps (OAuth 2.0 / OpenID Connect) ------------------------------------------
# The ID tokens' signing key has no default: a key made on the fly would change at every restart
# (and differ between processes), and apps would reject every ID token signed by another one.
OIDC_RSA_PRIVATE_KEY = env("OIDC_RSA_PRIVATE_KEY", cast=rsa_private_key)
OAUTH2_PROVIDER = oauth2_provider_settings(private_key=OIDC_RSA_PRIVATE_KEY, issuer=PUBLIC_BASE_URL)

# --- Static files -------------------------------------------------------------------------
# Hashed names (collected at image build time), so whitenoise serves them cached forever.
STATIC_ROOT = env.path("STATIC_ROOT", default=str(STATIC_ROOT))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
