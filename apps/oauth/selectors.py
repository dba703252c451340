"""Reads for people's apps."""

from __future__ import annotations

import hashlib
from typing import Any

from django.db.models import QuerySet
from oauth2_provider.models import get_access_token_model

from apps.oauth.models import Connection, ConnectionStatus


def person_connections(*, person: Any) -> QuerySet[Connection]:
    """The apps the person approved and has not revoked, newest first ("Connected apps" on /me/)."""
    return (
        Connection.objects.filter(person=person, status=ConnectionStatus.ACTIVE)
        .select_related("application")
        .order_by("-created_at")
    )


def person_connection_get(*, person: Any, connection_id: Any) -> Connection | None:
    """One of the person's active connections; another person's is not found."""
    return person_connections(person=person).filter(pk=connection_id).first()


def access_token_find(raw: str) -> Any:
    """The stored access token for a presented one (only its SHA-256 is kept), with its person
    and app; None when there is no such token (unknown, revoked or rotated away)."""
    checksum = hashlib.sha256(raw.encode()).hexdigest()
    return (
        get_access_token_model().objects.select_related("user", "application").filter(token_checksum=checksum).first()
    )
