from __future__ import annotations

from django.apps import AppConfig
from django.core.signals import setting_changed
from django.utils.translation import gettext_lazy as _

from apps.core import crypto


class CoreConfig(AppConfig):
    """What every app shares (encrypted fields, the resilient cache, counters, signed links,
    security headers, log redaction, error reports). It imports no other app of the project."""

    name = "apps.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        setting_changed.connect(crypto.reset_keys_on_setting_change)
