from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentificationsConfig(AppConfig):
    name = "apps.identifications"
    label = "identifications"
    verbose_name = _("OTP identifications")
