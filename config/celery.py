"""The Celery app: settings come from Django (CELERY_*), tasks from each app's tasks.py."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folder(sender: Celery, **kwargs: object) -> None:
    # kombu's filesystem transport does not create its folder itself.
    from django.conf import settings

    if str(settings.CELERY_BROKER_URL).startswith("filesystem://"):
        settings.CELERY_BROKER_FOLDER.mkdir(parents=True, exist_ok=True)
