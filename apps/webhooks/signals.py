from __future__ import annotations

import logging
from typing import Any

from django.db import transaction

logger = logging.getLogger(__name__)


def relay_soon_after_commit(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Publish a new transition right after its commit instead of waiting for beat."""
    if not created:
        return

    def enqueue() -> None:
        from apps.webhooks.tasks import relay_events

        try:
            relay_events.delay()
        except Exception:
            logger.warning("Could not queue the event relay; beat will publish the event", exc_info=True)

    transaction.on_commit(enqueue)
