from __future__ import annotations

from celery import shared_task

from apps.activities.services import activities_sweep_batches


@shared_task(name="apps.activities.tasks.sweep_activity_deadlines", ignore_result=True)
def sweep_activity_deadlines() -> int:
    """Cancel pending activities past valid_until and expire sharings past sharing_until, in
    batches sized to hold their row locks briefly, until nothing overdue is left."""
    return sum(count for count, _ in activities_sweep_batches())
