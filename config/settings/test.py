"""The test suite: PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set, else SQLite."""

from __future__ import annotations

from .base import *  # noqa: F403
from .base import BASE_DIR, MIDDLEWARE, VAR_DIR, derive_key, development_signing_key, env, oauth2_provider_settings

DEBUG = False
SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
FIELD_ENCRYPTION_KEYS = [derive_key(SECRET_KEY, "field-encryption")]
FIELD_HMAC_KEY = derive_key(SECRET_KEY, "field-hmac")
if not env("DATABASE_URL", default=""):
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "var" / "test.sqlite3"}}
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "locmem"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
# The fake Onfido and the local OpenID Connect provider listen on 127.0.0.1.
PROVIDERS_ALLOW_PRIVATE_NETWORKS = True
# The sandbox and the seed's unsigned Connect examples work in tests (tests that need them off
# override these).
SANDBOX_ENABLED = True
CONNECT_UNVERIFIED_JWT_ALLOWED = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PUBLIC_BASE_URL = "http://testserver"
CELERY_BROKER_URL = "memory://"
# Static files come from the finders in tests (the live server serves them itself).
MIDDLEWARE = [m for m in MIDDLEWARE if not m.startswith("whitenoise.")]
# People's apps: ID tokens signed with a key kept under var/ (made once, shared by xdist workers).
OIDC_RSA_PRIVATE_KEY = development_signing_key(VAR_DIR / "oidc-signing-key-test.pem")
OAUTH2_PROVIDER = oauth2_provider_settings(private_key=OIDC_RSA_PRIVATE_KEY, issuer=PUBLIC_BASE_URL)
