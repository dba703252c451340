"""The Celery app: settings come from Django (CELERY_*), tasks from each app's tasks.py."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from apps.core.redaction import redact_handlers

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folder(sender: Celery, **kwargs: object) -> None:
    # kombu's filesystem transport does not create its message folder, and creates its control
    # folder only when its parent exists.
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        settings.CELERY_BROKER_FOLDER.mkdir(parents=True, exist_ok=True)
        settings.CELERY_BROKER_CONTROL_FOLDER.mkdir(parents=True, exist_ok=True)


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_secrets(logger: object, **kwargs: object) -> None:
    # A worker replaces the root logger's handlers with its own: they redact secret link tokens
    # too (apps.core.redaction), as LOGGING's do.
    redact_handlers(logger)  # type: ignore[arg-type]
