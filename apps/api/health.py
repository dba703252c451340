"""/healthz: can this process reach its database and its broker?"""

from __future__ import annotations

import os

from celery import current_app
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, connection.vendor
    except Exception as exc:
        return False, f"{type(exc).__name__}"


def _broker_ok() -> tuple[bool, str]:
    url = str(settings.CELERY_BROKER_URL)
    transport = url.split("://", 1)[0]
    if transport == "filesystem":
        folder = settings.CELERY_BROKER_FOLDER
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return False, f"{transport}: {type(exc).__name__}"
        return os.access(folder, os.W_OK), transport
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, transport
    except Exception as exc:
        return False, f"{transport}: {type(exc).__name__}"


@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    db_ok, db_info = _database_ok()
    broker_ok, broker_info = _broker_ok()
    healthy = db_ok and broker_ok
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": {"ok": db_ok, "detail": db_info},
        "broker": {"ok": broker_ok, "detail": broker_info},
    }
    return JsonResponse(body, status=200 if healthy else 503)
