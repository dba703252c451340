from __future__ import annotations

from celery import shared_task

from apps.verifications.services import processes_fail_overdue


@shared_task(name="apps.verifications.tasks.fail_overdue_processes", ignore_result=True)
def fail_overdue_processes() -> int:
    total = 0
    while count := processes_fail_overdue():
        total += count
    return total
