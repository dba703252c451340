from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationsConfig(AppConfig):
    name = "apps.organizations"
    label = "organizations"
    verbose_name = _("Organizations and API keys")

    def ready(self) -> None:
        from apps.organizations import key_cache

        key_cache.connect()
