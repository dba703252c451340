from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.core.crypto import lookup_hash, normalize_email
from apps.identities.models import ExternalPersonalIdentity
from apps.organizations.models import Organization


def identity_list(*, organization: Organization, state: str | None = None) -> QuerySet[ExternalPersonalIdentity]:
    qs = ExternalPersonalIdentity.objects.filter(organization=organization)
    if state:
        qs = qs.filter(state=state)
    return qs


def identity_email_taken(*, organization: Organization, email: str, exclude_id: Any = None) -> bool:
    """Whether another identity of the organization has this email address (compared normalised)."""
    qs = ExternalPersonalIdentity.objects.filter(
        organization=organization, email_hash=lookup_hash(normalize_email(email))
    )
    if exclude_id is not None:
        qs = qs.exclude(pk=exclude_id)
    return qs.exists()


def identity_get(*, organization: Organization, identity_id: Any) -> ExternalPersonalIdentity | None:
    """Only this organization's identity: another organization's id is simply not found."""
    return ExternalPersonalIdentity.objects.filter(organization=organization, pk=identity_id).first()
