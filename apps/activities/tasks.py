from __future__ import annotations

import logging

from celery import shared_task

from apps.activities.notices import activities_waiting, activity_notify_receptor
from apps.activities.services import activities_sweep_batches
from apps.audit.dispatch import Change

logger = logging.getLogger(__name__)


@shared_task(name="apps.activities.tasks.sweep_activity_deadlines", ignore_result=True)
def sweep_activity_deadlines() -> int:
    """Cancel pending activities past valid_until and expire sharings past sharing_until, in
    batches sized to hold their row locks briefly, until nothing overdue is left."""
    return sum(count for count, _ in activities_sweep_batches())


@shared_task(name="apps.activities.tasks.notify_receptor", ignore_result=True)
def notify_receptor(activity_id: str) -> bool:
    """Email the receptor that a request waits for them (activity_notify_receptor)."""
    return activity_notify_receptor(activity_id=activity_id)


def activities_created_notify(changes: list[Change]) -> None:
    """Audit subscriber (after the commit): one notice task per activity just created."""
    for activity_id in activities_waiting(changes):
        try:
            notify_receptor.delay(activity_id)
        except Exception:  # the broker being down must not fail the request: the request still waits on /me/
            logger.warning("Could not queue the request notice of activity %s", activity_id, exc_info=True)
