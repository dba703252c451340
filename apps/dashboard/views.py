from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext

from apps.dashboard import selectors
from apps.dashboard.forms import DashboardFilterForm
from apps.dashboard.tallies import last_recount, tallies_recount


def dashboard(request: HttpRequest) -> HttpResponse:
    """Charts of the last days' activity, for the organizations the staff member works for."""
    visible = selectors.organizations_visible_to(request.user)
    organization, period = DashboardFilterForm(request.GET or None, organizations=visible).filters()
    # The form on the page shows the filters in effect, not the rejected values.
    form = DashboardFilterForm(initial={"organization": organization, "days": period}, organizations=visible)
    organizations = visible.filter(pk=organization.pk) if organization else visible
    days = selectors.period_days(days=period)
    # Beat recounts in the background; only a portal that has never counted counts here, once.
    recount = last_recount() or tallies_recount()
    tallies = selectors.tallies_read(organizations=organizations, days=days)  # every chart's counts, one query
    context = {
        **admin.site.each_context(request),
        "title": gettext("Dashboard"),
        "form": form,
        "organization": organization,
        "period": period,
        "first_day": days[0],
        "last_day": days[-1],
        "has_organizations": visible.exists(),
        "counted_at": recount.counted_at,
        "recount_minutes": max(1, round(settings.DASHBOARD_RECOUNT_SECONDS / 60)),
        "activities": selectors.activities_by_status_per_day(organizations=organizations, days=days, tallies=tallies),
        "verifications": selectors.verification_outcomes_by_provider(
            organizations=organizations, days=days, tallies=tallies
        ),
        "identifications": selectors.identification_funnel(organizations=organizations, days=days, tallies=tallies),
        "sessions": selectors.session_outcomes(organizations=organizations, days=days, tallies=tallies),
        "webhooks": selectors.webhook_health(organizations=organizations, days=days, tallies=tallies),
        "recent_failures": selectors.webhook_recent_failures(organizations=organizations, days=days),
    }
    return render(request, "admin/dashboard.html", context)
