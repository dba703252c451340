from __future__ import annotations

from django.apps import AppConfig


class TransfersConfig(AppConfig):
    name = "apps.transfers"
    label = "transfers"
    verbose_name = "Data-transfer sessions"

    def ready(self) -> None:
        # Models are loaded only now; the services that import them, with them.
        from apps.audit.services import after_transition_register
        from apps.transfers.models import TransferSession
        from apps.transfers.services import session_after_transition

        after_transition_register(TransferSession, session_after_transition)
