"""Read-only aggregates for the back-office dashboard: one database query per chart.

Every selector takes the organizations the viewer may see and the days of the period
(oldest first; see `period_days`), adds up the counts of what was created from the first day
on, and returns plain data (lists, dicts, numbers, strings) ready for `json_script`. The counts
are the hourly tallies that apps.dashboard.tallies recounts in the background, summed here into
the viewer's days; only the recent failures are read from the deliveries themselves.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Case, DateTimeField, QuerySet, Sum, Value, When
from django.db.models.functions import TruncDay
from django.utils import timezone
from django.utils.translation import gettext

from apps.activities.models import ActivityStatus
from apps.backoffice.admin_scoping import organizations_for
from apps.dashboard.models import Chart, Tally
from apps.organizations.models import Organization
from apps.transfers.models import SessionStatus
from apps.verifications.models import ProcessStatus
from apps.webhooks.models import DELIVERY_FAILING, Delivery, DeliveryStatus

PERIODS = (7, 30, 90)
DEFAULT_PERIOD = 30
RECENT_FAILURES = 10


def organizations_visible_to(user: Any) -> QuerySet[Organization]:
    """The back office's rule (apps.backoffice.admin_scoping), in name order for the filter."""
    return organizations_for(user).order_by("name")


def period_days(*, days: int, today: date | None = None) -> list[date]:
    """The `days` calendar days (in the current time zone) that end today, oldest first."""
    today = today or timezone.localdate()
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def period_start(days: list[date]) -> datetime:
    """Midnight, in the current time zone, at the start of the first day."""
    return timezone.make_aware(datetime.combine(days[0], time.min))


def _day(value: datetime | date) -> date:
    # TruncDay gives an aware datetime at local midnight (a date on some backends).
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


# What one read of the tallies gives: per chart, the count of each (key, day); the day only for
# the activities chart (per day), None for the charts that show the period's totals.
Counts = dict[str, dict[tuple[str, date | None], int]]


def tallies_read(
    *, organizations: QuerySet[Organization], days: list[date], charts: tuple[str, ...] = tuple(Chart.values)
) -> Counts:
    """The period's counts of `charts`, summed from the hourly tallies into the viewer's days (one query)."""
    charts = tuple(Chart(chart).value for chart in charts)  # plain strings: the rows' values
    per_day = Case(
        When(chart=Chart.ACTIVITIES, then=TruncDay("hour")), default=Value(None), output_field=DateTimeField()
    )
    rows = (
        Tally.objects.filter(organization__in=organizations, chart__in=charts, hour__gte=period_start(days))
        .annotate(day=per_day)
        .values("chart", "key", "day")
        .annotate(count=Sum("count"))
        .order_by()
    )
    counts: Counts = {chart: {} for chart in charts}
    for row in rows:
        position = (row["key"], None if row["day"] is None else _day(row["day"]))
        chart = counts[row["chart"]]
        chart[position] = chart.get(position, 0) + row["count"]
    return counts


def _totals(
    chart: str, organizations: QuerySet[Organization], days: list[date], tallies: Counts | None
) -> dict[str, int]:
    """The period's count of each key of a chart."""
    if tallies is None:
        tallies = tallies_read(organizations=organizations, days=days, charts=(chart,))
    totals: dict[str, int] = {}
    for (key, _day_of_count), count in tallies[Chart(chart).value].items():
        totals[key] = totals.get(key, 0) + count
    return totals


def activities_by_status_per_day(
    *, organizations: QuerySet[Organization], days: list[date], tallies: Counts | None = None
) -> dict[str, Any]:
    """Activities created on each day of the period, split by their current status."""
    if tallies is None:
        tallies = tallies_read(organizations=organizations, days=days, charts=(Chart.ACTIVITIES,))
    index = {day: position for position, day in enumerate(days)}
    by_status = {status: [0] * len(days) for status in ActivityStatus.values}
    for (status, day), count in tallies[Chart.ACTIVITIES.value].items():
        position = index.get(day) if day is not None else None
        if position is not None and status in by_status:
            by_status[status][position] += count
    series = [
        {"key": status, "label": str(label), "counts": by_status[status], "total": sum(by_status[status])}
        for status, label in ActivityStatus.choices
    ]
    # The days with any activity, for the table that stands in for the chart.
    table_rows = [
        {"label": day.isoformat(), "counts": list(counts_of_day), "total": sum(counts_of_day)}
        for day, counts_of_day in zip(days, zip(*(item["counts"] for item in series), strict=True), strict=True)
        if any(counts_of_day)
    ]
    return {
        "labels": [day.isoformat() for day in days],
        "series": series,
        "rows": table_rows,
        "total": sum(row["total"] for row in table_rows),
    }


def verification_outcomes_by_provider(
    *, organizations: QuerySet[Organization], days: list[date], tallies: Counts | None = None
) -> dict[str, Any]:
    """Verification processes started in the period, by provider and status.

    `connect:<method>` providers are counted under `connect`.
    """
    table: dict[str, dict[str, int]] = {}
    for key, count in _totals(Chart.VERIFICATIONS, organizations, days, tallies).items():
        provider, _colon, status = key.rpartition(":")
        by_status = table.setdefault(provider, dict.fromkeys(ProcessStatus.values, 0))
        if status in by_status:
            by_status[status] += count
    providers = sorted(table, key=lambda name: (-sum(table[name].values()), name))
    series = [
        {"key": status, "label": str(label), "counts": [table[provider][status] for provider in providers]}
        for status, label in ProcessStatus.choices
    ]
    table_rows = [
        {"label": provider, "counts": list(table[provider].values()), "total": sum(table[provider].values())}
        for provider in providers
    ]
    return {
        "labels": providers,
        "series": series,
        "rows": table_rows,
        "total": sum(row["total"] for row in table_rows),
    }


def identification_funnel(
    *, organizations: QuerySet[Organization], days: list[date], tallies: Counts | None = None
) -> dict[str, Any]:
    """How far OTP identifications created in the period got, and how the others ended."""
    totals = dict.fromkeys(
        ("created", "link_sent", "code_sent", "code_verified", "identified", "failed", "canceled", "expired", "open"), 0
    )
    totals.update(_totals(Chart.IDENTIFICATIONS, organizations, days, tallies))
    stages = [
        {"key": "created", "label": gettext("Created"), "count": totals["created"]},
        {"key": "link_sent", "label": gettext("Link sent"), "count": totals["link_sent"]},
        {"key": "code_sent", "label": gettext("Code sent"), "count": totals["code_sent"]},
        {"key": "code_verified", "label": gettext("Code verified"), "count": totals["code_verified"]},
        {"key": "identified", "label": gettext("Identified"), "count": totals["identified"]},
    ]
    outcomes = [
        {"key": "failed", "label": gettext("Failed"), "count": totals["failed"]},
        {"key": "canceled", "label": gettext("Canceled"), "count": totals["canceled"]},
        {"key": "expired", "label": gettext("Expired"), "count": totals["expired"]},
        {"key": "open", "label": gettext("Still open"), "count": totals["open"]},
    ]
    return {"stages": stages, "outcomes": outcomes, "identified": totals["identified"], "total": totals["created"]}


def _rate(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def session_outcomes(
    *, organizations: QuerySet[Organization], days: list[date], tallies: Counts | None = None
) -> dict[str, Any]:
    """Data-transfer sessions created in the period by status, with the rates of the answered ones.

    Rates are over the sessions that ended (confirmed, declined or expired); open ones are
    counted but not in the rates.
    """
    counts = dict.fromkeys(SessionStatus.values, 0)
    for status, count in _totals(Chart.SESSIONS, organizations, days, tallies).items():
        if status in counts:
            counts[status] += count
    ended = counts[SessionStatus.CONFIRMED] + counts[SessionStatus.DECLINED] + counts[SessionStatus.EXPIRED]
    open_count = counts[SessionStatus.INITIALIZED] + counts[SessionStatus.RETRIEVED]
    outcomes = [
        {"key": status.value, "label": str(status.label), "count": counts[status], "rate": _rate(counts[status], ended)}
        for status in (SessionStatus.CONFIRMED, SessionStatus.DECLINED, SessionStatus.EXPIRED)
    ]
    outcomes.append({"key": "open", "label": gettext("Still open"), "count": open_count, "rate": None})
    return {
        "outcomes": outcomes,
        "ended": ended,
        "confirmed_rate": _rate(counts[SessionStatus.CONFIRMED], ended),
        "total": ended + open_count,
    }


def _deliveries(organizations: QuerySet[Organization], days: list[date]) -> QuerySet[Delivery]:
    return Delivery.objects.filter(organization__in=organizations, created_at__gte=period_start(days))


def webhook_health(
    *, organizations: QuerySet[Organization], days: list[date], tallies: Counts | None = None
) -> dict[str, Any]:
    """Webhook deliveries created in the period: by status, and the success rate of the finished ones."""
    totals = dict.fromkeys([*DeliveryStatus.values, "retried"], 0)
    totals.update(_totals(Chart.WEBHOOKS, organizations, days, tallies))
    finished = totals[DeliveryStatus.SUCCEEDED] + totals[DeliveryStatus.DEAD]
    statuses = [
        {"key": status, "label": str(label), "count": totals[status]} for status, label in DeliveryStatus.choices
    ]
    return {
        "statuses": statuses,
        "total": sum(item["count"] for item in statuses),
        "succeeded": totals[DeliveryStatus.SUCCEEDED],
        "dead": totals[DeliveryStatus.DEAD],
        "retried": totals["retried"],
        "success_rate": _rate(totals[DeliveryStatus.SUCCEEDED], finished),
    }


def webhook_recent_failures(
    *, organizations: QuerySet[Organization], days: list[date], limit: int = RECENT_FAILURES
) -> list[dict[str, Any]]:
    """The latest deliveries in the period that died or whose last attempt failed."""
    rows = (
        _deliveries(organizations, days)
        .filter(DELIVERY_FAILING)
        .order_by("-updated_at")
        .values(
            "id",
            "event__type",
            "url",
            "status",
            "attempt_count",
            "last_status_code",
            "last_error",
            "updated_at",
            "organization__name",
        )[:limit]
    )
    return [
        {
            "id": str(row["id"]),
            "event_type": row["event__type"],
            "url": row["url"],
            "status": row["status"],
            "status_label": str(DeliveryStatus(row["status"]).label),
            "attempts": row["attempt_count"],
            "status_code": row["last_status_code"],
            "error": row["last_error"][:200],
            "updated_at": row["updated_at"],
            "organization": row["organization__name"],
        }
        for row in rows
    ]
