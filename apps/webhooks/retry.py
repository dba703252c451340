"""What one attempt's result means for a delivery: its next state and when to try again.

Pure: no database, no clock. The caller passes the attempt's number, what came back and the
time the attempt finished.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from apps.webhooks.models import DeliveryStatus

# Delay before attempt n+1 after attempt n failed: immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
RETRY_DELAYS = (
    timedelta(0),
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
# Longer delays wait in next_attempt_at for the relay: a Celery countdown that long would sit
# in worker memory, and Redis redelivers it after the visibility timeout.
COUNTDOWN_LIMIT = timedelta(seconds=60)


class Failure(enum.Enum):
    """How an attempt went wrong before any HTTP status came back."""

    NONE = "none"  # an answer came back (its status code says the rest)
    NETWORK = "network"  # connection refused or reset, timeout: worth another try
    REFUSED = "refused"  # the destination is not one we send to: never worth another try


@dataclass(frozen=True)
class NextStep:
    """A delivery's state after an attempt.

    `next_attempt_at` is set while it is pending; `queue_in` is the countdown of the task that
    sends it again when the delay is short enough for Celery, None when the relay picks it up.
    """

    status: DeliveryStatus
    next_attempt_at: datetime | None = None
    queue_in: timedelta | None = None

    @property
    def enqueued_at(self) -> datetime | None:
        """When the retry's task is queued for: only a retry queued with a countdown has one."""
        if self.queue_in is None or self.next_attempt_at is None:
            return None
        return self.next_attempt_at


def is_success(status_code: int | None) -> bool:
    return status_code is not None and 200 <= status_code < 300


def is_retryable(status_code: int | None, failure: Failure) -> bool:
    """Worth another try: a network error, a server error or 429 Too Many Requests."""
    if failure is Failure.REFUSED:
        return False
    if status_code is None:
        return failure is Failure.NETWORK
    return status_code >= 500 or status_code == 429


def next_step(*, attempt: int, status_code: int | None, failure: Failure, now: datetime) -> NextStep:
    """The state after attempt number `attempt` (1 for the first) that finished at `now`.

    Success → succeeded. A retryable failure before the last attempt → pending, due after
    RETRY_DELAYS[attempt - 1]. Anything else (a client error, a refused destination, the last
    attempt) → dead.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    if failure is Failure.NONE and is_success(status_code):
        return NextStep(DeliveryStatus.SUCCEEDED)
    if attempt < MAX_ATTEMPTS and is_retryable(status_code, failure):
        delay = RETRY_DELAYS[attempt - 1]
        return NextStep(
            DeliveryStatus.PENDING,
            next_attempt_at=now + delay,
            queue_in=delay if delay <= COUNTDOWN_LIMIT else None,
        )
    return NextStep(DeliveryStatus.DEAD)
