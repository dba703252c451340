from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.identifications.models import OPEN_STATUSES, Channel, IdentificationStatus, OtpIdentification
from apps.organizations.models import Organization


def masked_destination(identification: OtpIdentification) -> str:
    """Where the code goes, as the page may say it: `d***@example.com`, `*********67`. Enough
    for the person to recognise their own address, too little to learn someone else's."""
    if identification.channel == Channel.SMS:
        digits = "".join(ch for ch in identification.actor_phone or "" if ch.isdigit())
        return "*" * max(len(digits) - 2, 3) + digits[-2:] if digits else ""
    local, _, domain = (identification.actor_email or "").partition("@")
    if not local or not domain:
        return ""
    return f"{local[0]}***@{domain}"


def identification_get(*, organization: Organization, identification_id: Any) -> OtpIdentification | None:
    return OtpIdentification.objects.filter(organization=organization, pk=identification_id).first()


def identification_list(
    *,
    organization: Organization,
    status: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
) -> QuerySet[OtpIdentification]:
    """`organization`'s identifications, created in [created_after, created_before).

    `status` is the status the API shows: an open identification past expires_at counts as
    EXPIRED (the read-time guard expires it as it is shown), never as CREATED or IN_PROGRESS."""
    queryset = OtpIdentification.objects.filter(organization=organization)
    now = timezone.now()
    if status in OPEN_STATUSES:
        queryset = queryset.filter(status=status, expires_at__gt=now)
    elif status == IdentificationStatus.EXPIRED:
        queryset = queryset.filter(
            Q(status=IdentificationStatus.EXPIRED) | Q(status__in=OPEN_STATUSES, expires_at__lte=now)
        )
    elif status:
        queryset = queryset.filter(status=status)
    if created_after is not None:
        queryset = queryset.filter(created_at__gte=created_after)
    if created_before is not None:
        queryset = queryset.filter(created_at__lt=created_before)
    return queryset


def person_identifications(*, person: Any) -> QuerySet[OtpIdentification]:
    """Identifications an organization ran for the person's email address, newest first."""
    return (
        OtpIdentification.objects.filter(actor_email_hash=person.email_hash)
        .select_related("organization")
        .order_by("-created_at")
    )


def identification_status_shown(*, identification: OtpIdentification) -> str:
    """The status the actor's page shows: an open identification past expires_at is EXPIRED
    before anything records it (the page's GET never writes; the sweep, the API's read-time
    guard or the actor's next POST write the expiry)."""
    if identification.status in OPEN_STATUSES and identification.expires_at <= timezone.now():
        return IdentificationStatus.EXPIRED
    return identification.status
