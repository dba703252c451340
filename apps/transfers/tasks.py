from __future__ import annotations

from celery import shared_task

from apps.transfers.models import TransferSession
from apps.transfers.services import session_expire_if_overdue, sessions_expire_overdue, sessions_purge_data


@shared_task(name="apps.transfers.tasks.expire_session", ignore_result=True)
def expire_session(session_id: str) -> None:
    """The countdown: expire one session at its expires_at (if still open)."""
    session = TransferSession.objects.filter(pk=session_id).first()
    if session is not None:
        session_expire_if_overdue(session=session)


@shared_task(name="apps.transfers.tasks.expire_overdue_sessions", ignore_result=True)
def expire_overdue_sessions() -> int:
    total = 0
    while count := sessions_expire_overdue():
        total += count
    return total


@shared_task(name="apps.transfers.tasks.purge_session_data", ignore_result=True)
def purge_session_data() -> int:
    total = 0
    while count := sessions_purge_data():
        total += count
    return total
