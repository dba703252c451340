from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings

from apps.api.idempotency import idempotency_purge


@shared_task(name="apps.api.tasks.purge_idempotency_records")
def purge_idempotency_records() -> int:
    return idempotency_purge(older_than=timedelta(seconds=settings.IDEMPOTENCY_KEY_TTL_SECONDS))
