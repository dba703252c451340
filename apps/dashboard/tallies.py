"""The dashboard's counts, recounted from the rows in the background.

A chart counts the objects created in the period by the state they have now, so yesterday's
count changes whenever one of yesterday's activities is accepted or expires. Counting at each
view read every row of the period (a second and more at a million activities); counting
incrementally inside each transition would put one hot counter row in every creation's and
sweep's transaction. Instead, beat recounts every DASHBOARD_RECOUNT_SECONDS: one grouped query
per chart over the longest period (the rows' `(organization, created_at)` and `created_at`
indexes), per organization and hour in UTC, written in one transaction that replaces the
previous counts, so a reader sees either the old counts or the new ones, never a mix. The
dashboard says when they were counted. Recounts are serialised by a lock on the run's row.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from apps.activities.models import Activity
from apps.dashboard.models import Chart, Tally, TallyRun
from apps.dashboard.selectors import PERIODS
from apps.identifications.models import IdentificationStatus, MessageKind, MessageStatus, OtpIdentification
from apps.transfers.models import TransferSession
from apps.verifications.models import VerificationProcess
from apps.webhooks.models import Delivery, DeliveryStatus

# The longest period, from the first midnight of any time zone (UTC-12 to UTC+14) on.
RECOUNT_DAYS = max(PERIODS) + 2
RUN_ID = 1


def _hourly(queryset: QuerySet[Any], since: datetime, *fields: str, **counts: Any) -> QuerySet[Any]:
    return (
        queryset.filter(created_at__gte=since)
        .annotate(hour=TruncHour("created_at", tzinfo=UTC))
        .values("organization_id", "hour", *fields)
        .annotate(**counts)
        .order_by()
    )


def _tally(chart: str, row: dict[str, Any], key: str, count: int) -> Tally:
    return Tally(organization_id=row["organization_id"], chart=chart, hour=row["hour"], key=key, count=count)


def _by_status(chart: str, queryset: QuerySet[Any], since: datetime) -> Iterator[Tally]:
    for row in _hourly(queryset, since, "status", count=Count("id")):
        yield _tally(chart, row, row["status"], row["count"])


def _verifications(since: datetime) -> Iterator[Tally]:
    # connect:<method> is counted under connect.
    merged: dict[tuple[Any, datetime, str], int] = {}
    for row in _hourly(VerificationProcess.objects.all(), since, "provider", "status", count=Count("id")):
        provider = row["provider"].split(":", 1)[0] or "unknown"
        position = (row["organization_id"], row["hour"], f"{provider}:{row['status']}")
        merged[position] = merged.get(position, 0) + row["count"]
    for (organization_id, hour, key), count in merged.items():
        yield Tally(organization_id=organization_id, chart=Chart.VERIFICATIONS, hour=hour, key=key, count=count)


FUNNEL = {
    "created": Q(),
    "link_sent": Q(messages__kind=MessageKind.LINK, messages__status=MessageStatus.SENT),
    "code_sent": Q(messages__kind=MessageKind.CODE, messages__status=MessageStatus.SENT),
    "code_verified": Q(code_verified_at__isnull=False),
    "identified": Q(status=IdentificationStatus.IDENTIFIED),
    "failed": Q(status=IdentificationStatus.FAILED),
    "canceled": Q(status=IdentificationStatus.CANCELED),
    "expired": Q(status=IdentificationStatus.EXPIRED),
    "open": Q(status__in=[IdentificationStatus.CREATED, IdentificationStatus.IN_PROGRESS]),
}


def _identifications(since: datetime) -> Iterator[Tally]:
    counts = {stage: Count("id", distinct=True, filter=condition) for stage, condition in FUNNEL.items()}
    for row in _hourly(OtpIdentification.objects.all(), since, **counts):
        for stage in FUNNEL:
            if row[stage]:
                yield _tally(Chart.IDENTIFICATIONS, row, stage, row[stage])


def _webhooks(since: datetime) -> Iterator[Tally]:
    retried = Count("id", filter=Q(status=DeliveryStatus.SUCCEEDED, attempt_count__gt=1))
    for row in _hourly(Delivery.objects.all(), since, "status", count=Count("id"), retried=retried):
        yield _tally(Chart.WEBHOOKS, row, row["status"], row["count"])
        if row["retried"]:
            yield _tally(Chart.WEBHOOKS, row, "retried", row["retried"])


def _counted(since: datetime) -> Iterable[Tally]:
    yield from _by_status(Chart.ACTIVITIES, Activity.objects.all(), since)
    yield from _verifications(since)
    yield from _identifications(since)
    yield from _by_status(Chart.SESSIONS, TransferSession.objects.all(), since)
    yield from _webhooks(since)


def tallies_recount(*, now: datetime | None = None) -> TallyRun:
    """Count every chart again and replace the previous counts in one transaction."""
    started = time.monotonic()
    with transaction.atomic():
        TallyRun.objects.get_or_create(pk=RUN_ID, defaults={"counted_at": timezone.now(), "since": timezone.now()})
        # Lock the run's row: a second recount waits for this one, then counts again.
        run = TallyRun.objects.select_for_update().get(pk=RUN_ID)
        counted_at = now or timezone.now()
        since = (counted_at - timedelta(days=RECOUNT_DAYS)).replace(minute=0, second=0, microsecond=0)
        tallies = list(_counted(since))
        Tally.objects.all().delete()
        Tally.objects.bulk_create(tallies, batch_size=5000)
        run.counted_at = counted_at
        run.since = since
        run.tallies = len(tallies)
        run.duration_ms = round((time.monotonic() - started) * 1000)
        run.save()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Statistics for the planner and a visibility map for index-only reads, at once (a few
        # tens of milliseconds: the table holds the tallies of one period).
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {Tally._meta.db_table}")
    return run


def last_recount() -> TallyRun | None:
    return TallyRun.objects.filter(pk=RUN_ID).first()
