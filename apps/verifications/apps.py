from __future__ import annotations

import logging
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.utils.translation import gettext_lazy as _

logger = logging.getLogger("apps.verifications")


def check_bioface_provider(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """The consent page's face check may be a sandbox process only where the sandbox is on."""
    if settings.ACTIVITIES_BIOFACE_PROVIDER == "sandbox" and not settings.SANDBOX_ENABLED:
        return [
            checks.Error(
                "ACTIVITIES_BIOFACE_PROVIDER is 'sandbox' but SANDBOX_ENABLED is false.",
                hint="Use facetec, or set SANDBOX_ENABLED=true (never in production).",
                id="verifications.E001",
            )
        ]
    return []


class VerificationsConfig(AppConfig):
    name = "apps.verifications"
    label = "verifications"
    verbose_name = _("Identity verification processes")

    def ready(self) -> None:
        # Models are loaded only now; the services that import them, with them.
        from apps.audit.dispatch import transition_subscribe
        from apps.verifications.models import VerificationProcess
        from apps.verifications.services import connect_refusal, processes_changed

        # In the transaction: the notification's delivery commits with the change.
        transition_subscribe(VerificationProcess, processes_changed, on_commit=False)
        checks.register(check_bioface_provider)
        # Every process logs this at startup (gunicorn runs no system checks): an operator sees
        # why connect processes are refused before an integrator reports it.
        reason = connect_refusal()
        if reason:
            logger.warning("Connect processes are refused: %s", reason)
