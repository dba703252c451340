from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from apps.transfers.models import TransferSession


def session_url(session: TransferSession) -> str:
    """The consent page the phone opens (the QR's content)."""
    return settings.PUBLIC_BASE_URL + reverse("transfers:consent", args=[session.pk])
