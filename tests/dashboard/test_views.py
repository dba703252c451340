"""The dashboard page in the admin: staff only, their organizations only, forgiving filters."""

from __future__ import annotations

import json
import re

import pytest

from tests.dashboard.factories import make_activity, make_delivery, make_process, make_session, make_staff
from tests.factories import OrganizationFactory, make_person, staff_login

pytestmark = pytest.mark.django_db

URL = "/admin/dashboard/"
CHARTS = ("activities", "verifications", "identifications", "sessions", "webhooks")


@pytest.fixture
def acme():
    return OrganizationFactory(slug="acme", name="Acme Bank")


@pytest.fixture
def globex():
    return OrganizationFactory(slug="globex", name="Globex")


def _chart_data(response, name: str) -> dict:
    match = re.search(
        rf'<script id="chart-{name}-data" type="application/json">(.*?)</script>', response.content.decode(), re.S
    )
    assert match, f"no data for the {name} chart"
    return json.loads(match.group(1))


def test_it_shows_staff_every_chart_with_its_data(client, acme):
    make_activity(acme, "ACCEPTED")
    make_process(acme, "onfido", "rejected")
    make_session(acme, "declined")
    make_delivery(acme, "dead", error="HTTP 503")
    staff_login(client, make_staff("staff@example.com", acme))

    response = client.get(URL)

    assert response.status_code == 200
    assert _chart_data(response, "activities")["total"] == 1
    assert _chart_data(response, "verifications")["labels"] == ["onfido"]
    assert _chart_data(response, "sessions")["outcomes"][1] == {
        "key": "declined",
        "label": "Declined",
        "count": 1,
        "rate": 100.0,
    }
    assert _chart_data(response, "webhooks")["dead"] == 1
    page = response.content.decode()
    for canvas in ("chart-activities", "chart-verifications", "chart-sessions", "chart-webhooks"):
        assert f'id="{canvas}"' in page
    assert 'id="chart-identifications"' not in page  # nothing to draw: an empty-state message instead
    assert "No identifications were created in this period." in page
    assert "HTTP 503" in page
    # The key figures above the charts.
    kpis = re.search(r'<ul class="ops-kpis".*?</ul>', page, re.S).group(0)
    assert re.findall(r'<span class="ops-kpi__value">(.*?)</span>', kpis) == [
        "1",
        "1",
        "0<small> / 0</small>",
        "0.0%",
        "0.0%",
        "1",
    ]
    assert "/static/vendor/chartjs/chart.umd.min.js" in page
    assert "/static/js/dashboard.js" in page


def test_it_shows_empty_states_when_there_is_no_data(client, acme):
    staff_login(client, make_staff("staff@example.com", acme))

    response = client.get(URL)

    assert response.status_code == 200
    page = response.content.decode()
    assert "<canvas" not in page
    assert "No activities were created in this period." in page
    assert "No failed webhook deliveries in this period." in page
    assert all(_chart_data(response, name)["total"] == 0 for name in CHARTS)


def test_it_tells_staff_without_an_organization_why_it_is_empty(client, acme):
    make_activity(acme, "PENDING")
    staff_login(client, make_staff("newcomer@example.com"))

    response = client.get(URL)

    assert response.status_code == 200
    assert _chart_data(response, "activities")["total"] == 0
    assert "You are not a member of any organization yet" in response.content.decode()


def test_it_sends_anonymous_visitors_and_non_staff_to_the_admin_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"] == f"/admin/login/?next={URL}"

    client.force_login(make_person("person@example.com"))
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")


def test_it_hides_other_organizations_from_staff(client, acme, globex):
    make_activity(acme, "PENDING")
    for _ in range(3):
        make_activity(globex, "ACCEPTED")
    make_delivery(globex, "dead", error="globex receiver down")
    staff_login(client, make_staff("staff@example.com", acme))

    response = client.get(URL)
    assert _chart_data(response, "activities")["total"] == 1
    assert _chart_data(response, "webhooks")["dead"] == 0
    page = response.content.decode()
    assert "globex receiver down" not in page
    assert 'value="globex"' not in page  # not even offered in the filter

    # Asking for the other organization by name falls back to the staff member's own.
    response = client.get(URL, {"organization": "globex"})
    assert response.status_code == 200
    assert _chart_data(response, "activities")["total"] == 1
    assert _chart_data(response, "webhooks")["dead"] == 0


def test_it_shows_a_superuser_everything_and_filters_by_organization(client, acme, globex):
    make_activity(acme, "PENDING")
    make_activity(globex, "ACCEPTED")
    make_activity(globex, "ACCEPTED")
    staff_login(client, make_staff("root@example.com", superuser=True))

    assert _chart_data(client.get(URL), "activities")["total"] == 3
    response = client.get(URL, {"organization": "globex"})
    assert _chart_data(response, "activities")["total"] == 2
    assert '<option value="globex" selected>Globex</option>' in response.content.decode()


def test_it_filters_by_organization_for_a_member_of_several(client, acme, globex):
    make_activity(acme, "PENDING")
    make_activity(globex, "ACCEPTED")
    staff_login(client, make_staff("staff@example.com", acme, globex))

    assert _chart_data(client.get(URL), "activities")["total"] == 2
    assert _chart_data(client.get(URL, {"organization": "acme"}), "activities")["total"] == 1


@pytest.mark.parametrize("days", ["7", "30", "90"])
def test_it_shows_the_chosen_period(client, acme, days):
    staff_login(client, make_staff("staff@example.com", acme))

    response = client.get(URL, {"days": days})

    assert len(_chart_data(response, "activities")["labels"]) == int(days)
    assert f'<option value="{days}" selected>' in response.content.decode()


@pytest.mark.parametrize(
    "params",
    [
        {"days": "365"},
        {"days": "-1"},
        {"days": "abc"},
        {"days": ""},
        {"days": "30", "organization": "no-such-org"},
        {"organization": "'; DROP TABLE x; --"},
        {"organization": ["acme", "globex"], "days": ["7", "x"]},
        {"unknown": "1"},
    ],
)
def test_it_falls_back_to_defaults_on_bad_filters(client, acme, params):
    make_activity(acme, "PENDING")
    staff_login(client, make_staff("staff@example.com", acme))

    response = client.get(URL, params)

    assert response.status_code == 200
    data = _chart_data(response, "activities")
    # The default period (for a repeated parameter the last value counts, as everywhere in Django).
    assert len(data["labels"]) == 30
    assert data["total"] == 1


def test_the_admin_index_links_to_the_dashboard(client, acme):
    staff_login(client, make_staff("staff@example.com", acme))

    response = client.get("/admin/")

    assert response.status_code == 200
    page = response.content.decode()
    assert 'class="ops-dashboard-link" href="/admin/dashboard/"' in page
    # Still Django's index underneath: the app list and the recent actions.
    assert 'id="recent-actions-module"' in page
    assert "Site administration" in page or "Back office" in page
