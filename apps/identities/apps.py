from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IdentitiesConfig(AppConfig):
    name = "apps.identities"
    label = "identities"
    verbose_name = _("External personal identities")
