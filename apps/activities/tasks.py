from __future__ import annotations

from celery import shared_task

from apps.activities.services import activities_cancel_overdue, activities_expire_overdue


@shared_task(ignore_result=True)
def sweep_activity_deadlines() -> int:
    """Cancel pending activities past valid_until and expire sharings past sharing_until."""
    total = 0
    while count := activities_cancel_overdue() + activities_expire_overdue():
        total += count
    return total
