from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TransfersConfig(AppConfig):
    name = "apps.transfers"
    label = "transfers"
    verbose_name = _("Data-transfer sessions")

    def ready(self) -> None:
        # Models are loaded only now; the services that import them, with them.
        from apps.audit.dispatch import transition_subscribe
        from apps.transfers.models import TransferSession
        from apps.transfers.services import sessions_changed, sessions_changed_committed

        # In the transaction: the status cache entry is dropped before the commit shows the
        # change, and the callback's delivery commits with it. After the commit: the push.
        transition_subscribe(TransferSession, sessions_changed, on_commit=False)
        transition_subscribe(TransferSession, sessions_changed_committed)
