"""Staff open the back-office dashboard: every chart is drawn by the vendored Chart.js,
without console errors, and an empty database shows its empty states instead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.browser.conftest import STRONG_PASSWORD, admin_sign_in, assert_no_horizontal_overflow
from tests.dashboard.factories import (
    make_activity,
    make_delivery,
    make_identification,
    make_process,
    make_session,
    make_staff,
)
from tests.factories import OrganizationFactory

pytestmark = pytest.mark.browser

CHARTS = ["activities", "verifications", "identifications", "sessions", "webhooks"]


def _watch_console(page) -> list[str]:
    errors: list[str] = []

    def on_console(message) -> None:
        url = message.location.get("url", "")
        # The admin has no favicon; the browser asks for one anyway.
        if message.type == "error" and not url.endswith("/favicon.ico"):
            errors.append(f"{message.text} ({url})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _sign_in(page, live_server, email: str) -> None:
    admin_sign_in(page, live_server.url, email)


def _seed(organization) -> None:
    now = timezone.now()
    statuses = ["PENDING", "ACCEPTED", "COMPLETED", "DECLINED", "EXPIRED", "CANCELED"]
    for day in range(0, 28):
        for n in range((day * 7) % 5 + 1):
            status = statuses[(day + n * 3) % len(statuses)] if n else "COMPLETED"
            make_activity(organization, status, created_at=now - timedelta(days=day, hours=n))
    for provider, outcomes in {
        "onfido": ["accepted"] * 6 + ["rejected"] * 2 + ["inconclusive"],
        "eid": ["accepted"] * 4 + ["failed", "pending"],
        "connect:bankid": ["accepted"] * 3 + ["canceled"],
        "facetec": ["accepted", "rejected", "processing"],
    }.items():
        for status in outcomes:
            make_process(organization, provider, status)
    for _ in range(4):
        make_identification(organization, "IDENTIFIED", messages=("LINK", "CODE"), code_verified=True)
    make_identification(organization, "IN_PROGRESS", messages=("LINK", "CODE"))
    make_identification(organization, "CREATED", messages=("LINK",))
    make_identification(organization, "FAILED", messages=("LINK", "CODE"))
    make_identification(organization, "EXPIRED", messages=("LINK",))
    make_identification(organization, "CANCELED")
    for status in ["confirmed"] * 7 + ["declined"] * 2 + ["expired"] * 2 + ["retrieved"]:
        make_session(organization, status)
    for _ in range(18):
        make_delivery(organization, "succeeded")
    make_delivery(organization, "succeeded", attempts=3)
    make_delivery(organization, "dead", attempts=8, status_code=503, error="Service Unavailable")
    make_delivery(organization, "pending", attempts=2, error="Connection refused", url="https://crm.example.com/hooks")


def test_it_draws_every_chart_for_staff(desktop, live_server, screenshot):
    page = desktop
    acme = OrganizationFactory(slug="acme", name="Acme Bank")
    globex = OrganizationFactory(slug="globex", name="Globex")
    _seed(acme)
    make_activity(globex, "PENDING")
    make_staff("operator@example.com", acme, password=STRONG_PASSWORD)
    errors = _watch_console(page)

    _sign_in(page, live_server, "operator@example.com")
    link = page.get_by_role("link", name="Dashboard").first
    expect(link).to_be_visible()
    page.locator(".ops-dashboard-link").click()

    assert page.url == f"{live_server.url}/admin/dashboard/"
    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    for name in CHARTS:
        expect(page.locator(f"#chart-{name}")).to_be_visible()
    page.wait_for_function("() => typeof Chart !== 'undefined'")
    drawn = page.evaluate(
        "() => [...document.querySelectorAll('canvas[data-chart]')]"
        ".filter(c => Chart.getChart(c) && c.width > 0).map(c => c.dataset.chart)"
    )
    assert drawn == CHARTS
    # Staff of Acme see Acme's numbers only: Globex's activity is not counted.
    total = page.evaluate("() => JSON.parse(document.getElementById('chart-activities-data').textContent).total")
    assert total == page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-activities'))"
        ".data.datasets.reduce((sum, d) => sum + d.data.reduce((a, b) => a + b, 0), 0)"
    )
    expect(page.get_by_role("table").filter(has_text="HTTP 503 · Service Unavailable")).to_be_visible()

    # The table behind a chart, for screen readers and anyone without JavaScript.
    card = page.get_by_role("region", name="Verification outcomes by provider")
    card.get_by_text("Show as a table").click()
    expect(card.get_by_role("row", name="onfido")).to_contain_text("9")

    page.get_by_label("Period", exact=True).select_option("7")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    assert page.url.endswith("days=7")
    page.wait_for_function("() => Chart.getChart(document.getElementById('chart-activities'))")
    assert page.evaluate("() => Chart.getChart(document.getElementById('chart-activities')).data.labels.length") == 7

    page.get_by_label("Period", exact=True).select_option("30")
    with page.expect_navigation():
        page.get_by_role("button", name="Show").click()
    page.wait_for_function("() => Chart.getChart(document.getElementById('chart-webhooks'))")
    page.wait_for_timeout(700)  # let the charts' entry animation finish before the screenshot
    assert_no_horizontal_overflow(page)
    screenshot(page, "admin-dashboard.png")
    assert errors == []


def test_it_shows_empty_states_on_an_empty_database(desktop, live_server):
    page = desktop
    make_staff("root@example.com", superuser=True, password=STRONG_PASSWORD)
    errors = _watch_console(page)

    _sign_in(page, live_server, "root@example.com")
    page.goto(f"{live_server.url}/admin/dashboard/?days=bogus&organization=nope")

    expect(page.get_by_role("heading", level=1)).to_have_text("Dashboard")
    expect(page.get_by_text("There are no organizations yet.")).to_be_visible()
    expect(page.get_by_text("No activities were created in this period.")).to_be_visible()
    expect(page.get_by_text("No webhook deliveries in this period.")).to_be_visible()
    assert page.locator("canvas").count() == 0
    page.wait_for_load_state("load")
    assert page.evaluate("() => typeof Chart") == "function"
    assert errors == []


def test_it_fits_a_phone(phone, live_server):
    page = phone
    acme = OrganizationFactory(slug="acme", name="Acme Bank")
    _seed(acme)
    make_staff("operator@example.com", acme, password=STRONG_PASSWORD)
    errors = _watch_console(page)

    _sign_in(page, live_server, "operator@example.com")
    page.goto(f"{live_server.url}/admin/dashboard/")

    page.wait_for_function(
        "() => typeof Chart !== 'undefined' && Chart.getChart(document.getElementById('chart-webhooks'))"
    )
    assert_no_horizontal_overflow(page)
    assert errors == []
