"""The dashboard's aggregates: zero-filled on an empty database, counted per day, status and
provider, limited to the period and to the organizations asked for."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.dashboard import selectors
from apps.dashboard.tallies import tallies_recount
from apps.organizations.models import Organization
from tests.dashboard.factories import (
    make_activity,
    make_delivery,
    make_identification,
    make_process,
    make_session,
    make_staff,
)
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def acme():
    return OrganizationFactory(slug="acme", name="Acme Bank")


@pytest.fixture
def globex():
    return OrganizationFactory(slug="globex", name="Globex")


def _scope(*organizations: Organization, days: int = 30) -> dict:
    # What beat does every DASHBOARD_RECOUNT_SECONDS: count the rows made so far.
    tallies_recount()
    queryset = Organization.objects.filter(pk__in=[o.pk for o in organizations])
    return {"organizations": queryset, "days": selectors.period_days(days=days)}


def _counts(series: list[dict]) -> dict[str, list[int]]:
    return {item["key"]: item["counts"] for item in series}


def test_it_lists_the_days_of_the_period_oldest_first():
    days = selectors.period_days(days=7)

    assert days == [date(2026, 11, 14) + timedelta(days=n) for n in range(7)]
    assert selectors.period_start(days) == datetime(2026, 11, 14, tzinfo=UTC)


def test_it_answers_zeros_on_an_empty_database(acme):
    scope = _scope(acme, days=7)

    activities = selectors.activities_by_status_per_day(**scope)
    assert activities["total"] == 0
    assert len(activities["labels"]) == 7
    assert activities["rows"] == []
    assert all(counts == [0] * 7 for counts in _counts(activities["series"]).values())
    assert set(_counts(activities["series"])) == {"PENDING", "ACCEPTED", "DECLINED", "CANCELED", "EXPIRED", "COMPLETED"}

    verifications = selectors.verification_outcomes_by_provider(**scope)
    assert verifications == {
        "labels": [],
        "series": verifications["series"],
        "rows": [],
        "total": 0,
    }
    assert all(item["counts"] == [] for item in verifications["series"])

    funnel = selectors.identification_funnel(**scope)
    assert funnel["total"] == 0
    assert [stage["count"] for stage in funnel["stages"]] == [0] * 5

    sessions = selectors.session_outcomes(**scope)
    assert sessions["total"] == sessions["ended"] == 0
    assert all(outcome["rate"] is None for outcome in sessions["outcomes"])

    webhooks = selectors.webhook_health(**scope)
    assert webhooks["total"] == webhooks["dead"] == 0
    assert webhooks["success_rate"] is None
    assert selectors.webhook_recent_failures(**scope) == []


def test_it_counts_activities_per_day_and_status_within_the_period(acme):
    make_activity(acme, "PENDING", created_at=NOW - timedelta(hours=1))
    make_activity(acme, "PENDING", created_at=NOW - timedelta(hours=2))
    make_activity(acme, "ACCEPTED", created_at=NOW - timedelta(hours=3))
    make_activity(acme, "EXPIRED", created_at=NOW - timedelta(days=6, hours=14))  # 14 Nov, 01:00
    make_activity(acme, "EXPIRED", created_at=NOW - timedelta(days=6, hours=16))  # 13 Nov: too old

    activities = selectors.activities_by_status_per_day(**_scope(acme, days=7))

    assert activities["labels"][0] == "2026-11-14"
    assert activities["labels"][-1] == "2026-11-20"
    counts = _counts(activities["series"])
    assert counts["PENDING"] == [0, 0, 0, 0, 0, 0, 2]
    assert counts["ACCEPTED"] == [0, 0, 0, 0, 0, 0, 1]
    assert counts["EXPIRED"] == [1, 0, 0, 0, 0, 0, 0]
    assert activities["total"] == 4
    assert [(row["label"], row["total"]) for row in activities["rows"]] == [("2026-11-14", 1), ("2026-11-20", 3)]


def test_it_counts_verification_outcomes_per_provider(acme):
    for status in ("accepted", "accepted", "rejected"):
        make_process(acme, "onfido", status)
    make_process(acme, "connect:bankid", "accepted")
    make_process(acme, "connect:itsme", "failed")
    make_process(acme, "connect", "pending")
    make_process(acme, "eid", "inconclusive")
    make_process(acme, "eid", "accepted", created_at=NOW - timedelta(days=40))

    verifications = selectors.verification_outcomes_by_provider(**_scope(acme))

    # Busiest first; connect:<method> counted as connect.
    assert verifications["labels"] == ["connect", "onfido", "eid"]
    counts = _counts(verifications["series"])
    assert counts["accepted"] == [1, 2, 0]
    assert counts["rejected"] == [0, 1, 0]
    assert counts["failed"] == [1, 0, 0]
    assert counts["pending"] == [1, 0, 0]
    assert counts["inconclusive"] == [0, 0, 1]
    assert verifications["total"] == 7
    assert [row["total"] for row in verifications["rows"]] == [3, 3, 1]


def test_it_builds_the_identification_funnel(acme):
    make_identification(acme, "CREATED", messages=("!LINK",))
    make_identification(acme, "CREATED", messages=("LINK",))
    make_identification(acme, "IN_PROGRESS", messages=("LINK", "CODE", "CODE"))
    make_identification(acme, "IDENTIFIED", messages=("LINK", "CODE"), code_verified=True)
    make_identification(acme, "IDENTIFIED", messages=("LINK", "CODE"), code_verified=True)
    make_identification(acme, "FAILED", messages=("LINK", "CODE"))
    make_identification(acme, "CANCELED", messages=("LINK",))
    make_identification(acme, "EXPIRED")
    make_identification(acme, "IDENTIFIED", created_at=NOW - timedelta(days=31))

    funnel = selectors.identification_funnel(**_scope(acme))

    assert {stage["key"]: stage["count"] for stage in funnel["stages"]} == {
        "created": 8,
        "link_sent": 6,
        "code_sent": 4,
        "code_verified": 2,
        "identified": 2,
    }
    assert {outcome["key"]: outcome["count"] for outcome in funnel["outcomes"]} == {
        "failed": 1,
        "canceled": 1,
        "expired": 1,
        "open": 3,
    }
    assert funnel["total"] == 8
    assert funnel["identified"] == 2


def test_it_computes_session_rates_over_the_ended_sessions(acme):
    for status in ("confirmed", "confirmed", "confirmed", "declined", "expired", "initialized", "retrieved"):
        make_session(acme, status)

    sessions = selectors.session_outcomes(**_scope(acme))

    outcomes = {outcome["key"]: (outcome["count"], outcome["rate"]) for outcome in sessions["outcomes"]}
    assert outcomes == {
        "confirmed": (3, 60.0),
        "declined": (1, 20.0),
        "expired": (1, 20.0),
        "open": (2, None),
    }
    assert sessions["ended"] == 5
    assert sessions["confirmed_rate"] == 60.0
    assert sessions["total"] == 7


def test_it_reports_webhook_health_and_recent_failures(acme):
    make_delivery(acme, "succeeded")
    make_delivery(acme, "succeeded", attempts=3)
    make_delivery(acme, "succeeded", attempts=2, status_code=200)
    dead = make_delivery(acme, "dead", attempts=8, status_code=500, error="HTTP 500", url="https://a.example.com/h")
    retrying = make_delivery(acme, "pending", attempts=2, error="connection refused")
    make_delivery(acme, "pending", attempts=0)
    make_delivery(acme, "dead", created_at=NOW - timedelta(days=45))

    webhooks = selectors.webhook_health(**_scope(acme))

    assert {item["key"]: item["count"] for item in webhooks["statuses"]} == {
        "pending": 2,
        "sending": 0,
        "succeeded": 3,
        "dead": 1,
    }
    assert webhooks["total"] == 6
    assert webhooks["dead"] == 1
    assert webhooks["retried"] == 2
    assert webhooks["success_rate"] == 75.0

    failures = selectors.webhook_recent_failures(**_scope(acme))
    assert {failure["id"] for failure in failures} == {str(dead.pk), str(retrying.pk)}
    by_id = {failure["id"]: failure for failure in failures}
    assert by_id[str(dead.pk)]["status_code"] == 500
    assert by_id[str(dead.pk)]["organization"] == "Acme Bank"
    assert by_id[str(retrying.pk)]["error"] == "connection refused"
    assert by_id[str(retrying.pk)]["status_label"] == "Pending"


def test_it_counts_only_the_organizations_asked_for(acme, globex):
    make_activity(acme, "PENDING")
    make_activity(globex, "PENDING")
    make_activity(globex, "ACCEPTED")
    make_process(globex, "onfido", "accepted")
    make_identification(globex, "IDENTIFIED")
    make_session(globex, "confirmed")
    make_delivery(globex, "dead", error="boom")

    only_acme = _scope(acme)
    assert selectors.activities_by_status_per_day(**only_acme)["total"] == 1
    assert selectors.verification_outcomes_by_provider(**only_acme)["total"] == 0
    assert selectors.identification_funnel(**only_acme)["total"] == 0
    assert selectors.session_outcomes(**only_acme)["total"] == 0
    assert selectors.webhook_health(**only_acme)["dead"] == 0
    assert selectors.webhook_recent_failures(**only_acme) == []

    both = _scope(acme, globex)
    assert selectors.activities_by_status_per_day(**both)["total"] == 3
    assert selectors.webhook_health(**both)["dead"] == 1


def test_it_runs_one_query_per_chart(acme):
    make_activity(acme, "PENDING")
    make_process(acme, "onfido", "accepted")
    make_identification(acme, "IDENTIFIED", messages=("LINK", "CODE"), code_verified=True)
    make_session(acme, "confirmed")
    make_delivery(acme, "dead", error="boom")
    scope = _scope(acme)

    for selector in (
        selectors.activities_by_status_per_day,
        selectors.verification_outcomes_by_provider,
        selectors.identification_funnel,
        selectors.session_outcomes,
        selectors.webhook_health,
        selectors.webhook_recent_failures,
    ):
        with CaptureQueriesContext(connection) as queries:
            selector(**scope)
        assert len(queries) == 1, selector.__name__


def test_it_shows_staff_their_organizations_and_superusers_all(acme, globex):
    OrganizationFactory(slug="initech", name="Initech")
    member = make_staff("member@example.com", acme, globex)
    newcomer = make_staff("newcomer@example.com")
    root = make_staff("root@example.com", superuser=True)

    assert list(selectors.organizations_visible_to(member)) == [acme, globex]
    assert list(selectors.organizations_visible_to(newcomer)) == []
    assert [o.slug for o in selectors.organizations_visible_to(root)] == ["acme", "globex", "initech"]
