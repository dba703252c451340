"""Sending deliveries: claim a batch, POST each one signed, record the results, queue the retries."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import urllib3
from django.utils import timezone

from apps.webhooks.destinations import Destination, UnsafeDestination, destination_check
from apps.webhooks.endpoints import notification_secret_get
from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, NotificationSecret, SigningSecrets
from apps.webhooks.queue import deliveries_enqueue
from apps.webhooks.retry import Failure, next_step
from apps.webhooks.sender import TOTAL_TIMEOUT, post, sign_headers
from apps.webhooks.store import STORE, AttemptRecord, as_uuid

# A batch starts no send later than this after its claim, and each send gives up after
# TOTAL_TIMEOUT: a claim younger than CLAIM_MINIMUM may still be sending. What a batch did not
# get to in time goes back to pending and is queued again.
BATCH_SEND_SECONDS = 15.0
CLAIM_MINIMUM = timedelta(seconds=BATCH_SEND_SECONDS + TOTAL_TIMEOUT + 5)


@dataclass(frozen=True)
class _Outcome:
    """One attempt's result: what to record, and when to queue the delivery again."""

    delivery: Delivery
    record: AttemptRecord
    queue_in: timedelta | None


def delivery_attempt(*, delivery_id: Any) -> str | None:
    """Make the next attempt of a due delivery. Returns its new status, or None if not ours to send."""
    return deliveries_attempt(delivery_ids=[delivery_id]).get(as_uuid(delivery_id))


def deliveries_attempt(*, delivery_ids: Sequence[Any]) -> dict[uuid.UUID, str]:
    """Attempt those of these deliveries that are due and unclaimed. Returns {id: new status} of those sent.

    Three statements however many there are (on PostgreSQL): the claim, the deliveries with
    their events and endpoints, and the results (attempt rows and new states) together;
    per-object notifications add their organization's secret, once per batch. Each destination
    URL is resolved and checked once per batch, and every send to it reuses a kept-alive
    connection to the address checked. Sends start for BATCH_SEND_SECONDS at most, so that the
    claims' lease (CLAIM_MINIMUM) covers the whole batch; the rest is released and queued again.
    """
    claimed_at = timezone.now()
    wanted = [as_uuid(pk) for pk in delivery_ids]
    ids = STORE.claim(wanted, claimed_at)
    if not ids:
        return {}
    order = {pk: n for n, pk in enumerate(wanted)}  # sent in the order given (the events' order)
    deliveries = sorted(STORE.load(ids), key=lambda d: order[d.pk])
    stop_at = time.monotonic() + BATCH_SEND_SECONDS
    destinations: dict[str, Destination | UnsafeDestination] = {}
    notification_secrets: dict[Any, NotificationSecret] = {}
    outcomes: list[_Outcome] = []
    failed = False
    try:
        for delivery in deliveries:
            if outcomes and time.monotonic() > stop_at:
                break
            outcomes.append(_send(delivery, destinations, notification_secrets))
    except BaseException:
        # What was sent is recorded all the same (so it is not sent again); the delivery that
        # raised keeps its claim, which the relay resets after the lease, as for a dead worker.
        failed = True
        raise
    finally:
        STORE.results_save([o.record for o in outcomes], claimed_at=claimed_at)
        deliveries_enqueue(
            (o.delivery.pk, o.delivery.url, o.queue_in.total_seconds()) for o in outcomes if o.queue_in is not None
        )
        unsent = deliveries[len(outcomes) + (1 if failed else 0) :]
        if unsent:
            # Handed back to pending and queued again; a claim reset meanwhile is left alone,
            # and its copy of the task then finds nothing to claim.
            STORE.release([d.pk for d in unsent], claimed_at=claimed_at, now=timezone.now())
            deliveries_enqueue((d.pk, d.url, 0) for d in unsent)
    return {o.delivery.pk: o.record.fields["status"] for o in outcomes}


def _send(
    delivery: Delivery,
    destinations: dict[str, Destination | UnsafeDestination],
    notification_secrets: dict[Any, NotificationSecret],
) -> _Outcome:
    """One signed POST of a claimed delivery, and what it means for the delivery."""
    number = delivery.attempt_count + 1
    body = json.dumps(delivery.event.body(), separators=(",", ":"), ensure_ascii=False)
    status_code: int | None = None
    error = excerpt = ""
    failure = Failure.NONE
    now = timezone.now()
    started = time.monotonic()
    try:
        destination = destinations.get(delivery.url)
        if destination is None:
            # Resolved and checked once per batch: every send to it goes to the address checked.
            try:
                destination = destination_check(delivery.url)
            except UnsafeDestination as exc:
                destination = exc
            destinations[delivery.url] = destination
        if isinstance(destination, UnsafeDestination):
            raise destination
        holder: SigningSecrets | None = delivery.endpoint
        if holder is None:
            holder = notification_secrets.get(delivery.organization_id)
            if holder is None:
                holder = notification_secrets[delivery.organization_id] = notification_secret_get(
                    delivery.organization_id
                )
        headers = sign_headers(
            secrets=holder.signing_secrets(now=now),
            message_id=delivery.event.message_id,
            timestamp=now,
            body=body,
        )
        result = post(destination, body.encode(), headers)
        status_code, excerpt = result.status_code, result.excerpt
    except UnsafeDestination as exc:
        error, failure = f"Refused: {exc}", Failure.REFUSED
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        error, failure = f"{type(exc).__name__}: {exc}"[:1000], Failure.NETWORK
    duration_ms = int((time.monotonic() - started) * 1000)

    finished = timezone.now()
    step = next_step(attempt=number, status_code=status_code, failure=failure, now=finished)
    fields: dict[str, Any] = {
        "status": step.status,
        "attempt_count": number,
        "last_status_code": status_code,
        "last_error": error,
        "last_response_excerpt": excerpt,
        "updated_at": finished,
        "next_attempt_at": step.next_attempt_at,
    }
    if step.status == DeliveryStatus.SUCCEEDED:
        fields["succeeded_at"] = finished
    elif step.status == DeliveryStatus.PENDING:
        fields["enqueued_at"] = step.enqueued_at
    attempt = DeliveryAttempt(
        delivery_id=delivery.pk,
        number=number,
        started_at=now,
        duration_ms=duration_ms,
        status_code=status_code,
        error=error,
        response_excerpt=excerpt,
    )
    return _Outcome(delivery, AttemptRecord(delivery.pk, attempt, fields), step.queue_in)
