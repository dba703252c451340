from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ActivitiesConfig(AppConfig):
    name = "apps.activities"
    label = "activities"
    verbose_name = _("Consent activities")

    def ready(self) -> None:
        from apps.activities.models import Activity
        from apps.activities.tasks import activities_created_notify
        from apps.audit.dispatch import transition_subscribe

        # A request that waits for a person: an email to them once the creation commits.
        transition_subscribe(Activity, activities_created_notify)
