"""A bare Django: no apps, no middleware, the same PostgreSQL as the portal's benchmark.

What users compare a Django service with: the least a Django view can cost. Served by gunicorn
with 2 sync workers (bench/common.py `BareGunicorn`), next to the portal under its production
settings, in the same interleaved rounds.
"""

from __future__ import annotations

import os

import environ

SECRET_KEY = "bench-bare-" + "x" * 50
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bench.bare.urls"
DATABASES = {"default": environ.Env.db_url_config(os.environ["DATABASE_URL"])}
# Persistent connections, as the portal's production settings keep them (CONN_MAX_AGE 60): a
# new PostgreSQL connection per request would make the baseline measure connection setup.
DATABASES["default"]["CONN_MAX_AGE"] = 60
USE_TZ = True
TIME_ZONE = "UTC"
