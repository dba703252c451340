from __future__ import annotations

from django.apps import AppConfig


class VerificationsConfig(AppConfig):
    name = "apps.verifications"
    label = "verifications"
    verbose_name = "Identity verification processes"
