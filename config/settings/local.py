"""Development on a laptop: `make run`. Plain http on 127.0.0.1, embedded defaults."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import (
    DATABASES,
    OIDC_RSA_PRIVATE_KEY,
    PUBLIC_BASE_URL,
    VAR_DIR,
    derive_key,
    development_signing_key,
    env,
    oauth2_provider_settings,
)
from .environment import fernet_keys

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="dev-only-insecure-secret-key-change-me-0123456789")
FIELD_ENCRYPTION_KEYS = env(
    "FIELD_ENCRYPTION_KEYS", cast=fernet_keys, default=[derive_key(SECRET_KEY, "field-encryption")]
)
FIELD_HMAC_KEY = env("FIELD_HMAC_KEY", default=derive_key(SECRET_KEY, "field-hmac"))
# Webhook receivers on the developer's own machine are the common case here.
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=True)
PROVIDERS_ALLOW_PRIVATE_NETWORKS = env.bool("PROVIDERS_ALLOW_PRIVATE_NETWORKS", default=True)
# seed_demo registers it as the demo organization's webhook endpoint.
DEMO_WEBHOOK_RECEIVER = env.bool("DEMO_WEBHOOK_RECEIVER", default=True)
# The sandbox provider and the seed's unsigned Connect examples work on a laptop.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=True)
CONNECT_UNVERIFIED_JWT_ALLOWED = env.bool("CONNECT_UNVERIFIED_JWT_ALLOWED", default=True)
# Nobody has a FaceTec account on a laptop: the consent page's face check is a sandbox process.
ACTIVITIES_BIOFACE_PROVIDER = env("ACTIVITIES_BIOFACE_PROVIDER", default="sandbox" if SANDBOX_ENABLED else "facetec")
# `python manage.py staff_totp <email>` prints a demo staff account's current code (seed_demo
# prints their TOTP keys too). Never on outside local settings.
DEMO_STAFF_TOTP_COMMAND = True

# `make run` shares one SQLite file between the web server, the worker's processes and beat:
# writers take the lock up front and wait for it (instead of failing with "database is
# locked" on a read-to-write upgrade), and WAL lets readers go on while one of them writes.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )

# People's apps: ID tokens signed with a key kept under var/ unless OIDC_RSA_PRIVATE_KEY is set.
OIDC_RSA_PRIVATE_KEY = OIDC_RSA_PRIVATE_KEY or development_signing_key(VAR_DIR / "oidc-signing-key.pem")
OAUTH2_PROVIDER = oauth2_provider_settings(private_key=OIDC_RSA_PRIVATE_KEY, issuer=PUBLIC_BASE_URL)
