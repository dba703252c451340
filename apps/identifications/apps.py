from __future__ import annotations

from django.apps import AppConfig


class IdentificationsConfig(AppConfig):
    name = "apps.identifications"
    label = "identifications"
    verbose_name = "OTP identifications"
