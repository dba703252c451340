from __future__ import annotations

from typing import Any

from apps.transfers.models import TransferSession


def session_get(*, session_id: Any, organization: Any = None) -> TransferSession | None:
    queryset = TransferSession.objects.select_related("organization")
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    return queryset.filter(pk=session_id).first()
