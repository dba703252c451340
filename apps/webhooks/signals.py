from __future__ import annotations

from typing import Any

from django.db import transaction

from apps.webhooks.tasks import relay_soon


def relay_soon_after_commit(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """Publish a new transition right after its commit instead of waiting for beat."""
    if not created:
        return

    # At most one relay waiting in the queue.
    transaction.on_commit(relay_soon)
