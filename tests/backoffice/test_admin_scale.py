"""Changelists at scale (apps.backoffice.admin_scale): bounded counts, id search through the
primary key, the date hierarchy by probes, list-filter values from the newest rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.activities.models import Activity
from apps.audit.models import Transition
from apps.backoffice import admin_scale
from apps.backoffice.admin_scale import EstimatedCountPaginator, ProbedDatesQuerySet, with_probed_dates
from tests.backoffice.conftest import make_process

pytestmark = pytest.mark.django_db

PROCESSES = "/admin/verifications/verificationprocess/"
TRANSITIONS = "/admin/audit/transition/"


def _ids(response) -> set[str]:
    return {str(obj.pk) for obj in response.context["cl"].result_list}


def test_a_uuid_search_finds_exactly_that_object_through_its_primary_key(staff_client, org):
    client = staff_client(None, superuser=True)
    wanted, other = make_process(org), make_process(org)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(PROCESSES, {"q": str(wanted.pk)})
    assert response.status_code == 200
    assert _ids(response) == {str(wanted.pk)}
    assert str(other.pk) not in _ids(response)
    listing = [q["sql"] for q in queries.captured_queries if "verifications_verificationprocess" in q["sql"]]
    assert listing and not any("UPPER" in sql or "LIKE" in sql for sql in listing)


def test_a_partial_id_is_no_search_of_uuid_text(staff_client, org):
    client = staff_client(None, superuser=True)
    process = make_process(org)
    response = client.get(PROCESSES, {"q": str(process.pk)[:8]})
    assert response.status_code == 200
    assert _ids(response) == set()


def test_an_audit_row_is_found_by_its_subject_id(staff_client, org):
    client = staff_client(None, superuser=True)
    process = make_process(org)
    response = client.get(TRANSITIONS, {"q": str(process.pk)})
    assert response.status_code == 200
    rows = response.context["cl"].result_list
    assert rows and {row.object_id for row in rows} == {str(process.pk)}
    assert Transition.objects.filter(object_id=str(process.pk)).count() == len(rows)


def test_counts_are_exact_below_the_limit_and_estimated_above(org, monkeypatch):
    for _ in range(3):
        make_process(org)
    from apps.verifications.models import VerificationProcess

    queryset = VerificationProcess.objects.order_by("-created_at")
    assert EstimatedCountPaginator(queryset, 100).count == 3
    monkeypatch.setattr(admin_scale, "EXACT_COUNT_LIMIT", 2)
    with mock.patch.object(admin_scale, "table_estimate", return_value=1_000_000) as estimate:
        assert EstimatedCountPaginator(queryset, 100).count == 1_000_000
    estimate.assert_called_once()
    with mock.patch.object(admin_scale, "planner_estimate", return_value=1) as planned:
        # Never below what the bounded count saw.
        assert EstimatedCountPaginator(queryset.filter(provider="onfido"), 100).count == 3
    planned.assert_called_once()


def test_the_planner_estimate_is_a_number_on_postgresql(org):
    make_process(org)
    from apps.verifications.models import VerificationProcess

    estimate = admin_scale.planner_estimate(VerificationProcess.objects.filter(provider="onfido"))
    if connection.vendor == "postgresql":
        assert isinstance(estimate, int) and estimate >= 0
    else:
        assert estimate is None


def test_the_date_hierarchy_lists_the_periods_that_have_rows(org):
    make_process(org)
    activity_dates = with_probed_dates(Activity.objects.all())
    assert isinstance(activity_dates, ProbedDatesQuerySet)
    assert list(activity_dates.datetimes("created_at", "month")) == []
    from apps.verifications.models import VerificationProcess

    now = timezone.now()
    old = VerificationProcess.objects.get()
    VerificationProcess.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=65))
    make_process(org)
    probed = with_probed_dates(VerificationProcess.objects.all())
    for kind in ("year", "month", "day"):
        expected = list(VerificationProcess.objects.datetimes("created_at", kind))
        assert list(probed.datetimes("created_at", kind)) == expected, kind
        assert list(probed.datetimes("created_at", kind, order="DESC")) == expected[::-1]
    assert all(
        isinstance(value, datetime) and timezone.is_aware(value) for value in probed.datetimes("created_at", "day")
    )


def test_a_changelist_drills_down_the_date_hierarchy(staff_client, org):
    client = staff_client(None, superuser=True)
    make_process(org)
    today = timezone.localdate()
    for params in (
        {},
        {"created_at__year": today.year},
        {"created_at__year": today.year, "created_at__month": today.month},
    ):
        response = client.get(PROCESSES, params)
        assert response.status_code == 200
        assert len(response.context["cl"].result_list) == 1


def test_a_filter_without_choices_offers_the_recent_values_and_the_one_selected(staff_client, org):
    client = staff_client(None, superuser=True)
    make_process(org)
    response = client.get(PROCESSES, {"provider": "eid"})
    assert response.status_code == 200
    spec = next(s for s in response.context["cl"].filter_specs if getattr(s, "lookup_kwarg", "") == "provider")
    assert isinstance(spec, admin_scale.RecentValuesListFilter)
    assert list(spec.lookup_choices) == ["eid", "onfido"]
    assert len(response.context["cl"].result_list) == 0  # no process of provider eid


def test_changelists_show_the_newest_first(staff_client, org):
    client = staff_client(None, superuser=True)
    first = make_process(org)
    second = make_process(org)
    from apps.verifications.models import VerificationProcess

    VerificationProcess.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(hours=1))
    response = client.get(PROCESSES)
    assert [obj.pk for obj in response.context["cl"].result_list] == [second.pk, first.pk]
