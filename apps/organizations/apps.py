from __future__ import annotations

from django.apps import AppConfig


class OrganizationsConfig(AppConfig):
    name = "apps.organizations"
    label = "organizations"
    verbose_name = "Organizations and API keys"

    def ready(self) -> None:
        from apps.organizations import key_cache

        key_cache.connect()
