"""The dashboard's counts: recounted from the rows in the background, summed into the viewer's
days, replaced whole by each recount, and read by the page without counting rows."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.activities.models import Activity
from apps.dashboard import selectors
from apps.dashboard.models import Tally, TallyRun
from apps.dashboard.tallies import RECOUNT_DAYS, last_recount, tallies_recount
from apps.organizations.models import Organization
from tests.dashboard.factories import make_activity, make_delivery, make_staff
from tests.factories import OrganizationFactory, staff_login

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme():
    return OrganizationFactory(slug="acme", name="Acme Bank")


def _activities(*organizations: Organization, days: int = 7) -> dict[str, list[int]]:
    queryset = Organization.objects.filter(pk__in=[o.pk for o in organizations])
    chart = selectors.activities_by_status_per_day(organizations=queryset, days=selectors.period_days(days=days))
    return {item["key"]: item["counts"] for item in chart["series"] if any(item["counts"])}


def test_the_counts_are_those_of_the_last_recount(acme):
    first = make_activity(acme, "PENDING")
    tallies_recount()
    make_activity(acme, "PENDING")
    Activity.objects.filter(pk=first.pk).update(status="ACCEPTED")

    assert _activities(acme) == {"PENDING": [0, 0, 0, 0, 0, 0, 1]}

    tallies_recount()
    assert _activities(acme) == {"PENDING": [0, 0, 0, 0, 0, 0, 1], "ACCEPTED": [0, 0, 0, 0, 0, 0, 1]}


def test_a_recount_replaces_the_previous_counts_whole(acme):
    make_activity(acme, "PENDING", created_at=NOW - timedelta(days=2))
    make_activity(acme, "EXPIRED", created_at=NOW - timedelta(days=2, minutes=5))
    make_delivery(acme, "succeeded", attempts=2)
    first = tallies_recount()
    rows = sorted(Tally.objects.values_list("organization_id", "chart", "hour", "key", "count"))

    again = tallies_recount()

    assert sorted(Tally.objects.values_list("organization_id", "chart", "hour", "key", "count")) == rows
    assert again.tallies == first.tallies == len(rows) == 4  # two statuses, a delivery and its retry
    assert TallyRun.objects.count() == 1
    assert again.counted_at == NOW
    assert again.since == NOW - timedelta(days=RECOUNT_DAYS)


def test_rows_older_than_the_longest_period_are_not_counted(acme):
    make_activity(acme, "PENDING", created_at=NOW - timedelta(days=RECOUNT_DAYS, hours=1))
    tallies_recount()
    assert not Tally.objects.exists()


def test_the_days_are_the_viewers_own(acme):
    # 20 Nov 02:30 UTC is still 19 Nov in New York (UTC-5).
    make_activity(acme, "PENDING", created_at=datetime(2026, 11, 20, 2, 30, tzinfo=UTC))
    tallies_recount()

    assert _activities(acme)["PENDING"][-1] == 1
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        days = selectors.period_days(days=7)
        assert days[-1] == date(2026, 11, 20)
        assert _activities(acme)["PENDING"] == [0, 0, 0, 0, 0, 1, 0]


def test_the_page_reads_the_counts_and_says_when_they_were_counted(client, acme):
    make_activity(acme, "ACCEPTED")
    tallies_recount(now=NOW - timedelta(minutes=3))
    make_activity(acme, "ACCEPTED")  # after the recount: counted by the next one
    staff_login(client, make_staff("staff@example.com", acme))

    response = client.get("/admin/dashboard/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Counted at 20 Nov 2026, 14:57, and again every 5 minutes." in page
    assert '"total": 1' in page
    assert last_recount().counted_at == NOW - timedelta(minutes=3)


def test_a_portal_that_never_counted_counts_on_the_first_view(client, acme):
    make_activity(acme, "ACCEPTED")
    staff_login(client, make_staff("staff@example.com", acme))
    assert last_recount() is None

    response = client.get("/admin/dashboard/")

    assert response.status_code == 200
    assert last_recount().counted_at == NOW
    assert Tally.objects.filter(organization=acme, key="ACCEPTED").get().count == 1


def test_beat_recounts_every_dashboard_recount_seconds():
    entry = settings.CELERY_BEAT_SCHEDULE["recount-dashboard"]
    assert entry["task"] == "apps.dashboard.tasks.recount_tallies"
    assert entry["schedule"] == settings.DASHBOARD_RECOUNT_SECONDS == 300


@pytest.mark.skipif(connection.vendor != "postgresql", reason="partial indexes are planned by PostgreSQL")
def test_recent_failures_are_read_through_the_partial_index(acme):
    make_delivery(acme, "dead", error="boom")
    queryset = Organization.objects.filter(pk=acme.pk)
    days = selectors.period_days(days=30)
    failures = selectors._deliveries(queryset, days).filter(selectors.DELIVERY_FAILING).order_by("-updated_at")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = failures[:10].explain()
    assert "delivery_org_failing" in plan or "delivery_failing" in plan, plan


def test_the_page_reads_every_charts_counts_in_one_query(client, acme):
    make_activity(acme, "ACCEPTED")
    make_delivery(acme, "dead", error="boom")
    tallies_recount()
    staff_login(client, make_staff("staff@example.com", acme))

    with CaptureQueriesContext(connection) as queries:
        response = client.get("/admin/dashboard/?days=90")

    assert response.status_code == 200
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "dashboard_tally"' in q["sql"]]
    assert len(reads) == 1, reads
