from __future__ import annotations

from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = "Events and webhooks"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from apps.audit.models import Transition
        from apps.webhooks import signals

        post_save.connect(signals.relay_soon_after_commit, sender=Transition, dispatch_uid="webhooks.relay_soon")
