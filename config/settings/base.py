"""Settings shared by every environment; environment values come from django-environ."""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from .environment import (
    Env,
    base_url,
    fernet_keys,
    log_level,
    provider_jwks,
    provider_secrets,
    redis_url,
    request_rate,
    rsa_private_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

# django-environ, with a malformed value stopping startup with one line that names the variable
# and the form it wants (config/settings/environment.py).
env = Env()
# A local .env is a convenience for development; real deployments set the environment.
Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", cast=base_url, default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    # daphne first: `runserver` then serves HTTP and WebSockets from one process.
    "daphne",
    # Django's admin with the back office's site (second factor, staff-only account management).
    "apps.backoffice.admin_config.BackOfficeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from our static files, no CDN
    "django_fsm",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "channels",
    "apps.core",
    "apps.api",
    "apps.audit",
    "apps.organizations",
    "apps.people",
    "apps.identities",
    "apps.webhooks",
    "apps.verifications",
    "apps.activities",
    "apps.identifications",
    "apps.transfers",
    # People's apps (OAuth 2.0 / OpenID Connect): django-oauth-toolkit, with the portal's own
    # Application model and approval page in apps.oauth. Before the back office, whose
    # admin replaces the toolkit's registrations.
    "oauth2_provider",
    "apps.oauth",
    "apps.dashboard",
    "apps.backoffice",
    # Last: its admin module replaces a feature's registration (apps.portal.admin).
    "apps.portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.api.middleware.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before anything reads the body (CSRF parses a multipart POST): 413 from the headers alone.
    "apps.core.body_limits.RequestBodyLimitMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed a staff second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Times on pages in the person's time zone (saved, else the browser's cookie, else TIME_ZONE).
    "apps.core.time_zones.TimeZoneMiddleware",
    # The portal's 404 and 405 pages where Django would answer a bare one (apps.core.error_pages).
    "apps.core.error_pages.ErrorPagesMiddleware",
    # Staff sessions: an idle limit and an absolute one (apps.backoffice.sessions).
    "apps.backoffice.sessions.StaffSessionMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=0)
# A persistent connection the database dropped (restart, failover) is replaced, not reused.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # An unreachable server (a partition, a host down) fails requests in seconds instead of hanging them.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = ["apps.people.backends.EmailBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/me/"
LOGOUT_REDIRECT_URL = "/accounts/signed-out/"
# A password reset link works once and for this long.
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=24 * 3600)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
SILENCED_SYSTEM_CHECKS = [
    # The login email is stored encrypted (randomised), so uniqueness lives on the
    # keyed-HMAC column `email_hash`; the custom backend looks people up through it.
    "auth.W004",
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# One date format and one date-and-time format per language (config/formats/<lang>/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
# The whole request body, any content type (apps.core.body_limits): 413 past it, before anything
# reads the body. The identification page takes two document images of up to 5 MB each.
REQUEST_BODY_MAX_BYTES = env.int("REQUEST_BODY_MAX_BYTES", default=3 * 1024 * 1024)
REQUEST_BODY_UPLOAD_PATHS = ("/identify/",)
REQUEST_BODY_UPLOAD_MAX_BYTES = env.int("REQUEST_BODY_UPLOAD_MAX_BYTES", default=12 * 1024 * 1024)

# --- Personal data encryption -------------------------------------------------------
# Comma-separated Fernet keys, newest first: new values are written with the first key,
# any key still reads (cryptography's MultiFernet), so keys can rotate without downtime.
FIELD_ENCRYPTION_KEYS = env("FIELD_ENCRYPTION_KEYS", cast=fernet_keys, default=[])
# Key for the lookup HMAC columns (e.g. email_hash). It must outlive encryption-key
# rotation, so it is its own setting; by default it is derived from SECRET_KEY.
FIELD_HMAC_KEY = env("FIELD_HMAC_KEY", default="")


def derive_key(secret: str, purpose: str) -> str:
    """A stable, purpose-bound key derived from a secret (dev defaults only)."""
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# --- Cache, broker, channels ----------------------------------------------------------
REDIS_URL = env("REDIS_URL", cast=redis_url, default="")
if REDIS_URL:
    # A Redis outage degrades the cache to misses (rate limits and lockouts fail open) instead of
    # failing requests; short socket timeouts keep a hung Redis from hanging requests.
    CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_FOLDER = VAR_DIR / "celery-broker"
# The filesystem transport's exchange table (the workers' remote-control fanout): kombu's default
# is `control/` in the working directory, i.e. the repository's top level.
CELERY_BROKER_CONTROL_FOLDER = VAR_DIR / "celery-control"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: one folder both ways, processed messages dropped.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "control_folder": str(CELERY_BROKER_CONTROL_FOLDER),
        "store_processed": False,
    }
else:
    # A task a killed worker held unacknowledged is delivered again after this many seconds.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One Redis can serve several deployments (or test runs), each on its own queue.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The dashboard's counts are recounted from the rows this often (apps.dashboard.tallies).
DASHBOARD_RECOUNT_SECONDS = env.int("DASHBOARD_RECOUNT_SECONDS", default=300)
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "purge-idempotency-records": {"task": "apps.api.tasks.purge_idempotency_records", "schedule": 3600.0},
    "relay-events": {"task": "apps.webhooks.tasks.relay_events", "schedule": 2.0},
    "send-unsent-invitations": {"task": "apps.identities.tasks.send_unsent_invitations", "schedule": 60.0},
    "sweep-activity-deadlines": {"task": "apps.activities.tasks.sweep_activity_deadlines", "schedule": 5.0},
    "expire-overdue-sessions": {"task": "apps.transfers.tasks.expire_overdue_sessions", "schedule": 15.0},
    "purge-session-data": {"task": "apps.transfers.tasks.purge_session_data", "schedule": 300.0},
    "fail-overdue-processes": {"task": "apps.verifications.tasks.fail_overdue_processes", "schedule": 30.0},
    "recount-dashboard": {"task": "apps.dashboard.tasks.recount_tallies", "schedule": float(DASHBOARD_RECOUNT_SECONDS)},
    "purge-expired-app-tokens": {"task": "apps.oauth.tasks.purge_expired_tokens", "schedule": 3600.0},
    "expire-overdue-identifications": {
        "task": "apps.identifications.tasks.expire_overdue_identifications",
        "schedule": 60.0,
    },
}

# --- Email and SMS ---------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
# A stalled SMTP server fails the send (and the task retries) instead of holding a worker forever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Identity Portal <no-reply@portal.localhost>")
# console, file (one file per message under SMS_FILE_PATH), locmem (tests) or a dotted class path.
SMS_BACKEND = env("SMS_BACKEND", default="console")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))

# --- Integrations ----------------------------------------------------------------------
# `onfido:xxx,eid:yyy` (or `onfido=xxx`): the key of each provider's signed callbacks.
PROVIDER_SECRETS = env("PROVIDER_SECRETS", cast=provider_secrets, default={})
# Providers' public keys as JWKS documents, e.g. {"connect": {"keys": [...]}}: with one set,
# connect's plain-JWT userInfo must carry a valid signature.
PROVIDER_JWKS = env("PROVIDER_JWKS", cast=provider_jwks, default={})
# Connect: a plain-JWT userInfo is trusted when its signature checks against PROVIDER_JWKS
# ["connect"]. Without those keys it is decoded unchecked only where this is true (the local and
# test settings, for the seed's unsigned examples); production never does (connect is refused).
CONNECT_UNVERIFIED_JWT_ALLOWED = env.bool("CONNECT_UNVERIFIED_JWT_ALLOWED", default=False)
# The sandbox provider (a tester picks the outcome; the seed's examples are replayed): on in the
# local and test settings, off unless SANDBOX_ENABLED=true elsewhere. Its results are labelled as
# sandbox and never become a person's verified details, whatever this says.
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=False)
# The face check an AT_004 authorization with requires_bioface starts from the consent page:
# "facetec", or "sandbox" where a tester picks the outcome (make run's local settings; only
# with SANDBOX_ENABLED, which the system check verifications.E001 enforces).
ACTIVITIES_BIOFACE_PROVIDER = env("ACTIVITIES_BIOFACE_PROVIDER", default="facetec")
# An open verification process fails with reason "timeout" after this long.
VERIFICATION_TIMEOUT_SECONDS = env.int("VERIFICATION_TIMEOUT_SECONDS", default=24 * 3600)
# A data-transfer session's confirmed data is purged this long after the answer.
SESSION_DATA_RETENTION_SECONDS = env.int("SESSION_DATA_RETENTION_SECONDS", default=24 * 3600)
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOKS_REQUIRE_HTTPS = False
# Provider connections (an organization's issuer, token endpoint, JWKS, Onfido API URL) are
# fetched by the portal: only public addresses unless this is on (local and test settings).
PROVIDERS_ALLOW_PRIVATE_NETWORKS = env.bool("PROVIDERS_ALLOW_PRIVATE_NETWORKS", default=False)
# The demo's webhook receiver at /demo/webhooks/receiver (apps.webhooks.demo_receiver): on
# under `make run` only; it writes one line per delivery to DEMO_WEBHOOK_LOG.
DEMO_WEBHOOK_RECEIVER = False
DEMO_WEBHOOK_LOG = env("DEMO_WEBHOOK_LOG", default=str(VAR_DIR / "demo-webhooks.log"))
# After this long, the relay re-queues a delivery whose task or worker was lost.
WEBHOOKS_REQUEUE_AFTER_SECONDS = env.int("WEBHOOKS_REQUEUE_AFTER_SECONDS", default=60)

# --- Identities ------------------------------------------------------------------------
INVITATION_TTL_SECONDS = env.int("INVITATION_TTL_SECONDS", default=7 * 24 * 3600)

# --- API -------------------------------------------------------------------------------
API_RATE_LIMIT = env("API_RATE_LIMIT", cast=request_rate, default="600/min")
IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.organizations.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.organizations.permissions.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.organizations.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_RATE_LIMIT},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["apps.api.parsers.DepthLimitedJSONParser"],
    "DEFAULT_PAGINATION_CLASS": "apps.api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "apps.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "apps.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
    "DATETIME_FORMAT": "%Y-%m-%dT%H:%M:%SZ",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Identity and Consent Portal API",
    "DESCRIPTION": (
        "The integrator API: identities, consent activities, verification processes, "
        "OTP identifications, data-transfer sessions and webhooks. Authenticate with "
        "`Authorization: Bearer <api key>`. Every error body is "
        '`{"errors": [{"code", "message", "field"}]}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "IdentityStateEnum": "apps.identities.models.IdentityState",
        "ProcessStatusEnum": "apps.verifications.models.ProcessStatus",
        "SessionStatusEnum": "apps.transfers.models.SessionStatus",
        "ActivityTypeEnum": "apps.activities.models.ActivityType",
        "ActivityStatusEnum": "apps.activities.api.serializers.SHOWN_STATUSES",
        "PersonalDetailEnum": "apps.people.vocabulary.DETAIL_NAMES",
        "CommunicationChannelTypeEnum": "apps.identifications.models.Channel",
        # The activity's parties: `as` in the integrator API, `party` in the person's own view.
        "AsEnum": "apps.activities.models.Party",
    },
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "ApiKeyAuth": {"type": "http", "scheme": "bearer", "description": "An organization API key."}
        }
    },
    "SECURITY": [{"ApiKeyAuth": []}],
    "PREPROCESSING_HOOKS": ["apps.api.schema.drop_trailing_slash_twins"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "apps.webhooks.schema.add_event_components",
        "apps.api.schema.add_links",
        "apps.oauth.schema.add_security_schemes",
    ],
    "AUTHENTICATION_WHITELIST": [],
}

LOG_LEVEL = env("LOG_LEVEL", cast=log_level, default="INFO")
# Every handler redacts secret link tokens (invitation, identification and verification paths,
# ?token=, credentials) from what it writes: apps.core.redaction. Django's own defaults give the
# "django" and "django.server" loggers handlers of their own, without that filter; here they are
# replaced, so every record reaches a filtered handler (gunicorn's and Celery's handlers get the
# filter from gunicorn.conf.py and config/celery.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "redact_secrets": {"()": "apps.core.redaction.SecretRedactingFilter"},
        "require_debug_false": {"()": "django.utils.log.RequireDebugFalse"},
    },
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact_secrets"]},
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
            "filters": ["require_debug_false", "redact_secrets"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["mail_admins"], "level": LOG_LEVEL, "propagate": True},
        "django.server": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "django.db.backends": {"level": "WARNING"},
    },
}

# --- Web security: CSP, clickjacking, cookies ----------------------------------------
# Every page and API answer carries a strict Content-Security-Policy (django-csp): only the
# portal's own scripts, styles and images, no inline script, and no framing. The one page
# meant to be framed, the data-transfer display page, replaces frame-ancestors with
# SESSION_DISPLAY_FRAME_ANCESTORS (apps.core.security_headers.embeddable).
INSTALLED_APPS += ["csp"]
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1, "apps.core.security_headers.CSPMiddleware"
)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# Pages whose inline <script>/<style> blocks (rendered by a third-party template, no user
# input) are allowed by their SHA-256 hashes rather than by 'unsafe-inline': Swagger UI.
CSP_INLINE_HASH_PATHS = ["/api/docs/"]
# Who may frame /session/<id>/display: CSP source expressions, e.g. https://shop.example.com
SESSION_DISPLAY_FRAME_ANCESTORS = env.list("SESSION_DISPLAY_FRAME_ANCESTORS", default=["'self'"])
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# --- end of web security ---------------------------------------------------------------

# --- Sign-in attempts (apps.people.backends) --------------------------------------------
# LOGIN_MAX_ATTEMPTS failed sign-ins for one email from one address (or LOGIN_MAX_ATTEMPTS_PER_IP
# from one address, any email) within LOGIN_LOCKOUT_SECONDS refuse that pair (or that address)
# for LOGIN_LOCKOUT_SECONDS; other addresses still sign in to the account. Past
# LOGIN_ACCOUNT_BACKOFF_AFTER failures for one account from all addresses, each further failure
# holds that account for a back-off doubling from 1 s to LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS.
# Counted in the default cache.
LOGIN_MAX_ATTEMPTS = env.int("LOGIN_MAX_ATTEMPTS", default=5)
LOGIN_MAX_ATTEMPTS_PER_IP = env.int("LOGIN_MAX_ATTEMPTS_PER_IP", default=30)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)
LOGIN_ACCOUNT_BACKOFF_AFTER = env.int("LOGIN_ACCOUNT_BACKOFF_AFTER", default=20)
LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS = env.int("LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS", default=60)
# The account-wide back-off does not hold an account at an address it signed in from within
# this long (its owner's usual network), so guessing from elsewhere cannot lock the owner out.
LOGIN_KNOWN_ADDRESS_SECONDS = env.int("LOGIN_KNOWN_ADDRESS_SECONDS", default=30 * 24 * 3600)
# --- Staff (apps.backoffice) -------------------------------------------------------------
# A staff session ends after STAFF_SESSION_IDLE_SECONDS without a request, and
# STAFF_SESSION_MAX_SECONDS after sign-in whatever happens (API.md "Pages"). People's sessions
# keep Django's defaults.
STAFF_SESSION_IDLE_SECONDS = env.int("STAFF_SESSION_IDLE_SECONDS", default=30 * 60)
STAFF_SESSION_MAX_SECONDS = env.int("STAFF_SESSION_MAX_SECONDS", default=12 * 3600)
# The issuer an authenticator app shows next to a staff member's TOTP entry.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Identity Portal")
# Polls of GET /api/v1/session/{id}/status per session and client address
# (apps.api.throttles.SessionStatusRateThrottle); DRF rate syntax, e.g. "10/s", "300/min".
SESSION_STATUS_RATE_LIMIT = env("SESSION_STATUS_RATE_LIMIT", cast=request_rate, default="10/s")
# Error reports (ADMINS email) show no form values, local variables, cookie values or user
# email: each may hold personal data or a sign-in (apps.core.reporting).
DEFAULT_EXCEPTION_REPORTER_FILTER = "apps.core.reporting.PersonalDataReporterFilter"
DEFAULT_EXCEPTION_REPORTER = "apps.core.reporting.PersonalDataExceptionReporter"
# Reverse proxies (load balancers) in front of the portal that append the client's address
# to X-Forwarded-For; per-address limits (sign-in, status polling) read the client address
# from there. 0: REMOTE_ADDR. Behind one load balancer: 1.
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)

# --- People's apps: OAuth 2.0 and OpenID Connect (apps.oauth) ---------------------------
# The portal is the authorization server of the apps people answer in (API.md "People's apps"),
# with django-oauth-toolkit. Apps are registered by superusers in the back office: public
# clients, authorization code with PKCE S256, exact redirect URIs, the scopes each may ask for.
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth.Application"
# The ID tokens' RS256 key (PEM). Production requires it; local and test settings make one.
OIDC_RSA_PRIVATE_KEY = env("OIDC_RSA_PRIVATE_KEY", cast=rsa_private_key, default="")
# Requests per minute (or other period) one app may make for one person on /api/v1/me/ and the
# session endpoints, whatever token it presents (apps.oauth.authentication.AppTokenRateThrottle).
APP_TOKEN_RATE_LIMIT = env("APP_TOKEN_RATE_LIMIT", cast=request_rate, default="120/min")
# A refresh token that goes unused this long after its access token expired is dead (the app
# signs the person in again). Each refresh rotates it, so an app in use never meets this.
OAUTH_REFRESH_TOKEN_IDLE_SECONDS = env.int("OAUTH_REFRESH_TOKEN_IDLE_SECONDS", default=30 * 24 * 3600)
# The `profile` claims (name, given_name, family_name) of a person: apps.oauth reads them
# through this function of apps.people, the layer above it.
OAUTH_PROFILE_CLAIMS = "apps.people.selectors.person_profile_claims"


def oauth2_provider_settings(*, private_key: str, issuer: str) -> dict:
    """django-oauth-toolkit's settings: only what API.md's people's apps need, at RFC 9700's
    recommendations (every COMPLIANT_BCP_RFC9700_* gate on)."""
    return {
        "OAUTH2_VALIDATOR_CLASS": "apps.oauth.validators.PortalOAuth2Validator",
        "SCOPES_BACKEND_CLASS": "apps.oauth.scopes.ApplicationScopes",
        # Descriptions for the discovery document; people read apps.oauth.scopes.SCOPE_LABELS.
        "SCOPES": {
            "openid": "Sign in: a stable identifier for this app",
            "profile": "Your name",
            "inbox": "Your requests: read and answer them, end a sharing",
            "sessions": "Answer data-transfer sessions (QR codes)",
            "details": "Read your personal details",
        },
        "DEFAULT_SCOPES": ["openid"],
        "ACCESS_TOKEN_EXPIRE_SECONDS": 10 * 60,
        "ID_TOKEN_EXPIRE_SECONDS": 10 * 60,
        "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60,
        "REFRESH_TOKEN_EXPIRE_SECONDS": OAUTH_REFRESH_TOKEN_IDLE_SECONDS,
        "ROTATE_REFRESH_TOKEN": True,
        # A refresh token used twice revokes its whole family (a stolen copy and the app's own).
        "REFRESH_TOKEN_REUSE_PROTECTION": True,
        "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
        "PKCE_REQUIRED": True,
        "REQUEST_APPROVAL_PROMPT": "force",
        # https only by default; an app registered with a loopback or private-use redirect URI
        # allows that one too (apps.oauth.models.Application.get_allowed_schemes).
        "ALLOWED_REDIRECT_URI_SCHEMES": ["https"],
        "ALLOW_URI_WILDCARDS": False,
        "OIDC_ENABLED": True,
        "OIDC_RSA_PRIVATE_KEY": private_key,
        "OIDC_ISS_ENDPOINT": issuer,
        "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
        "OIDC_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["none"],
        "OAUTH2_RESPONSE_TYPES_SUPPORTED": ["code"],
        "OAUTH2_GRANT_TYPES_SUPPORTED": ["authorization_code", "refresh_token"],
        "OAUTH2_TOKEN_ENDPOINT_AUTH_METHODS_SUPPORTED": ["none"],
        "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
        "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
        "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
        "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
        # Only the SHA-256 of access and refresh tokens is stored, like the API keys.
        "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
        "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
        "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
        "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    }


def development_signing_key(path: Path) -> str:
    """An RSA key for ID tokens kept in `path` (made on first use), so tokens signed before a
    restart still verify; local and test settings only, never production."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        # Written beside the target and linked into place: a concurrent process (pytest-xdist,
        # make run's worker) either links first or reads the winner's complete file.
        partial = path.with_name(f"{path.name}.{os.getpid()}")
        partial.write_bytes(pem)
        partial.chmod(0o600)
        try:
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    return path.read_text()


OAUTH2_PROVIDER = oauth2_provider_settings(private_key=OIDC_RSA_PRIVATE_KEY, issuer=PUBLIC_BASE_URL)
