from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.transfers.models import TransferSession


def session_get(*, session_id: Any, organization: Any = None) -> TransferSession | None:
    queryset = TransferSession.objects.select_related("organization")
    if organization is not None:
        queryset = queryset.filter(organization=organization)
    return queryset.filter(pk=session_id).first()


def person_sessions(*, person: Any) -> QuerySet[TransferSession]:
    """Data-transfer sessions the person answered (confirmed or declined), newest first."""
    return (
        TransferSession.objects.filter(person=person, answered_at__isnull=False)
        .select_related("organization")
        .order_by("-answered_at")
    )
