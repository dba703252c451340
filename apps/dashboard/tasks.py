from __future__ import annotations

from celery import shared_task

from apps.dashboard.tallies import tallies_recount


@shared_task(name="apps.dashboard.tasks.recount_tallies", ignore_result=True)
def recount_tallies() -> int:
    """Beat: the dashboard's counts, every DASHBOARD_RECOUNT_SECONDS."""
    return tallies_recount().tallies
