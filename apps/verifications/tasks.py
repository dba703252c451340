from __future__ import annotations

from typing import Any

from celery import shared_task

from apps.verifications.connectors import ProviderError
from apps.verifications.handoff import process_collect
from apps.verifications.services import processes_fail_overdue

# Attempts to read a result back after the provider's webhook: 1 + 5 retries, 10 s, 20 s, ... (at most 10 min).
COLLECT_RETRIES = 5
COLLECT_BACKOFF = 10
COLLECT_BACKOFF_MAX = 600


@shared_task(name="apps.verifications.tasks.fail_overdue_processes", ignore_result=True)
def fail_overdue_processes() -> int:
    total = 0
    while count := processes_fail_overdue():
        total += count
    return total


@shared_task(
    bind=True,
    name="apps.verifications.tasks.collect_provider_result",
    ignore_result=True,
    max_retries=COLLECT_RETRIES,
)
def collect_provider_result(self: Any, process_id: str) -> None:
    """Read a finished run back from its provider: retried with exponential backoff while the
    provider errs or times out; after the last attempt the process fails with the reason."""
    try:
        process_collect(process_id=process_id, final_attempt=self.request.retries >= self.max_retries)
    except ProviderError as exc:
        raise self.retry(
            exc=exc, countdown=min(COLLECT_BACKOFF_MAX, COLLECT_BACKOFF * 2**self.request.retries)
        ) from exc
