from __future__ import annotations

from apps.audit.dispatch import Change
from apps.webhooks.tasks import relay_soon


def transitions_committed(changes: list[Change]) -> None:
    """Audit subscriber (WebhooksConfig.ready), after the commit of announced transitions:
    publish them now instead of waiting for beat. At most one relay waits in the queue."""
    relay_soon()
