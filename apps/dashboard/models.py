"""What the dashboard reads: counts per organization, chart, hour and key, recounted from the
rows in the background (apps.dashboard.tallies), so that a dashboard view reads a few thousand
small rows whatever the size of the tables it describes."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Chart(models.TextChoices):
    ACTIVITIES = "activities", _("Activities")
    VERIFICATIONS = "verifications", _("Verification outcomes")
    IDENTIFICATIONS = "identifications", _("Identification funnel")
    SESSIONS = "sessions", _("Session outcomes")
    WEBHOOKS = "webhooks", _("Webhook health")


class Tally(models.Model):
    """How many of one chart's objects created in one hour (UTC) have one key, for one organization.

    The key is what the chart counts by: a status, `provider:status` for verifications, a
    funnel stage for identifications, `retried` beside the statuses for webhooks. Hours in UTC
    add up to the days of any whole-hour time zone, so each staff member's dashboard shows
    days in their own zone.
    """

    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # the read index below begins with it
        verbose_name=_("organization"),
    )
    chart = models.CharField(max_length=16, choices=Chart.choices, verbose_name=_("chart"))
    hour = models.DateTimeField(verbose_name=_("hour"))
    key = models.CharField(max_length=80, verbose_name=_("key"))
    count = models.PositiveIntegerField(verbose_name=_("count"))

    class Meta:
        verbose_name = _("dashboard tally")
        verbose_name_plural = _("dashboard tallies")
        # Covering: the dashboard's read is an index-only scan (the recount vacuums the table).
        indexes = [
            models.Index(
                fields=["organization", "chart", "hour"], include=["key", "count"], name="dashboard_tally_read"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_chart_display()}: {self.key} = {self.count}"


class TallyRun(models.Model):
    """The last recount (one row): when the rows it counted were read, and how long it took."""

    counted_at = models.DateTimeField(verbose_name=_("counted at"))
    since = models.DateTimeField(verbose_name=_("counted since"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration (ms)"))
    tallies = models.PositiveIntegerField(default=0, verbose_name=_("tallies"))

    class Meta:
        verbose_name = _("dashboard recount")
        verbose_name_plural = _("dashboard recounts")

    def __str__(self) -> str:
        return f"{self.counted_at:%Y-%m-%d %H:%M}"
