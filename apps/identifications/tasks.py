from __future__ import annotations

from celery import shared_task

from apps.identifications.services import identifications_expire_overdue


@shared_task(name="apps.identifications.tasks.expire_overdue_identifications", ignore_result=True)
def expire_overdue_identifications() -> int:
    total = 0
    while count := identifications_expire_overdue():
        total += count
    return total
