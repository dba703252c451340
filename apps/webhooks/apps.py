from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebhooksConfig(AppConfig):
    name = "apps.webhooks"
    label = "webhooks"
    verbose_name = _("Events and webhooks")

    def ready(self) -> None:
        from apps.audit.dispatch import transition_subscribe
        from apps.webhooks.signals import transitions_committed

        # After the commit of any announced transition: the relay turns the unpublished audit
        # rows into events and deliveries.
        transition_subscribe(None, transitions_committed)
