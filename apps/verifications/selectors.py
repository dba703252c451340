from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.organizations.models import Organization
from apps.verifications.models import VerificationProcess


def process_get(*, organization: Organization, process_id: Any) -> VerificationProcess | None:
    try:
        process = VerificationProcess.objects.select_related("provider_run").get(
            organization=organization, pk=process_id
        )
    except VerificationProcess.DoesNotExist:
        return None
    process.organization = organization  # the caller's, not read again
    return process


def process_list(
    *, organization: Organization, status: str | None = None, provider: str | None = None
) -> QuerySet[VerificationProcess]:
    qs = VerificationProcess.objects.filter(organization=organization).select_related("provider_run")
    if status:
        qs = qs.filter(status=status)
    if provider:
        qs = qs.filter(provider=provider)
    return qs


def process_activity_get(*, organization: Organization, activity_id: Any) -> Any:
    """The organization's activity (AT_004) a new process is for, or None. Read through the
    process's own `activity` relation: activities sit above verifications and use it, not the
    other way round."""
    activities = VerificationProcess._meta.get_field("activity").related_model._default_manager
    return activities.filter(organization=organization, pk=activity_id).first()


def person_processes(*, person: Any) -> QuerySet[VerificationProcess]:
    """The verification processes of the person's identities, in any organization, newest first."""
    return (
        VerificationProcess.objects.filter(identity__person=person)
        .select_related("organization")
        .order_by("-created_at")
    )


def person_process_get(*, person: Any, process_id: Any) -> VerificationProcess | None:
    """One of the person's own processes (another person's is None: a 404)."""
    return person_processes(person=person).filter(pk=process_id).first()
