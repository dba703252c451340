"""Settings shared by every environment; environment values come from django-environ."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
# A local .env is a convenience for development; real deployments set the environment.
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    # daphne first: `runserver` then serves HTTP and WebSockets from one process.
    "daphne",
    "django.contrib.admin",
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
    "channels",
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "apps.api.middleware.ApiErrorMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
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
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"
AUTHENTICATION_BACKENDS = ["apps.people.backends.EmailBackend"]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/me/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
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

# --- Personal data encryption -------------------------------------------------------
# Comma-separated Fernet keys, newest first: new values are written with the first key,
# any key still reads (cryptography's MultiFernet), so keys can rotate without downtime.
FIELD_ENCRYPTION_KEYS = env.list("FIELD_ENCRYPTION_KEYS", default=[])
# Key for the lookup HMAC columns (e.g. email_hash). It must outlive encryption-key
# rotation, so it is its own setting; by default it is derived from SECRET_KEY.
FIELD_HMAC_KEY = env("FIELD_HMAC_KEY", default="")


def derive_key(secret: str, purpose: str) -> str:
    """A stable, purpose-bound key derived from a secret (dev defaults only)."""
    digest = hashlib.sha256(f"{purpose}:{secret}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# --- Cache, broker, channels ----------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
CELERY_BROKER_FOLDER = VAR_DIR / "celery-broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    # kombu's filesystem transport: one folder both ways, processed messages dropped.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_FOLDER),
        "data_folder_out": str(CELERY_BROKER_FOLDER),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# One Redis can serve several deployments (or test runs), each on its own queue.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "purge-idempotency-records": {"task": "apps.api.tasks.purge_idempotency_records", "schedule": 3600.0},
    "relay-events": {"task": "apps.webhooks.tasks.relay_events", "schedule": 2.0},
    "sweep-activity-deadlines": {"task": "apps.activities.tasks.sweep_activity_deadlines", "schedule": 5.0},
    "expire-overdue-sessions": {"task": "apps.transfers.tasks.expire_overdue_sessions", "schedule": 15.0},
    "purge-session-data": {"task": "apps.transfers.tasks.purge_session_data", "schedule": 300.0},
    "fail-overdue-processes": {"task": "apps.verifications.tasks.fail_overdue_processes", "schedule": 30.0},
    "expire-overdue-identifications": {
        "task": "apps.identifications.tasks.expire_overdue_identifications",
        "schedule": 60.0,
    },
}

# --- Email and SMS ---------------------------------------------------------------------
EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env("EMAIL_FILE_PATH", default=str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Identity Portal <no-reply@portal.localhost>")
# console, file (one file per message under SMS_FILE_PATH), locmem (tests) or a dotted class path.
SMS_BACKEND = env("SMS_BACKEND", default="console")
SMS_FILE_PATH = env("SMS_FILE_PATH", default=str(VAR_DIR / "sms"))

# --- Integrations ----------------------------------------------------------------------
PROVIDER_SECRETS = env.dict("PROVIDER_SECRETS", default={})
# Providers' public keys as JWKS documents, e.g. {"connect": {"keys": [...]}}: with one set,
# connect's plain-JWT userInfo must carry a valid signature.
PROVIDER_JWKS = env.json("PROVIDER_JWKS", default={})
# The face check an AT_004 authorization with requires_bioface starts from the consent page:
# "facetec", or "sandbox" where a tester picks the outcome (make run's local settings).
ACTIVITIES_BIOFACE_PROVIDER = env("ACTIVITIES_BIOFACE_PROVIDER", default="facetec")
# An open verification process fails with reason "timeout" after this long.
VERIFICATION_TIMEOUT_SECONDS = env.int("VERIFICATION_TIMEOUT_SECONDS", default=24 * 3600)
# A data-transfer session's confirmed data is purged this long after the answer.
SESSION_DATA_RETENTION_SECONDS = env.int("SESSION_DATA_RETENTION_SECONDS", default=24 * 3600)
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = env.bool("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", default=False)
WEBHOOKS_REQUIRE_HTTPS = False
# After this long, the relay re-queues a delivery whose task or worker was lost.
WEBHOOKS_REQUEUE_AFTER_SECONDS = env.int("WEBHOOKS_REQUEUE_AFTER_SECONDS", default=60)

# --- Identities ------------------------------------------------------------------------
INVITATION_TTL_SECONDS = env.int("INVITATION_TTL_SECONDS", default=7 * 24 * 3600)

# --- API -------------------------------------------------------------------------------
API_RATE_LIMIT = env("API_RATE_LIMIT", default="600/min")
IDEMPOTENCY_KEY_TTL_SECONDS = 24 * 3600

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["apps.organizations.authentication.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["apps.organizations.permissions.HasApiKey"],
    "DEFAULT_THROTTLE_CLASSES": ["apps.organizations.throttling.ApiKeyRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"api_key": API_RATE_LIMIT},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
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
        "apps.api.schema.add_event_components",
    ],
    "AUTHENTICATION_WHITELIST": [],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
