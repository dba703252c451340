from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "apps.people"
    label = "people"
    verbose_name = "People and personal details"

    def ready(self) -> None:
        from django.core.signals import setting_changed

        from apps.people import crypto

        setting_changed.connect(crypto.reset_keys_on_setting_change)
