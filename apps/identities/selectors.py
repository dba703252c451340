from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.identities.models import ExternalPersonalIdentity
from apps.organizations.models import Organization


def identity_list(*, organization: Organization, state: str | None = None) -> QuerySet[ExternalPersonalIdentity]:
    qs = ExternalPersonalIdentity.objects.filter(organization=organization)
    if state:
        qs = qs.filter(state=state)
    return qs


def identity_get(*, organization: Organization, identity_id: Any) -> ExternalPersonalIdentity | None:
    """Only this organization's identity: another organization's id is simply not found."""
    return ExternalPersonalIdentity.objects.filter(organization=organization, pk=identity_id).first()
