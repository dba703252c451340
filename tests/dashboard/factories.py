"""Rows in a given status at a given time, for the dashboard's counts.

The dashboard only reads, so these create rows directly rather than walking each object
through its services to the wanted status.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from apps.activities.models import Activity, ActivityStatus, ActivityType
from apps.identifications.models import (
    Channel,
    IdentificationStatus,
    MessageKind,
    MessageStatus,
    OtpIdentification,
    OtpMessage,
)
from apps.identities.models import ExternalPersonalIdentity
from apps.organizations.models import Membership, Organization
from apps.people.models import User
from apps.transfers.models import SessionStatus, TransferSession
from apps.verifications.models import ProcessStatus, VerificationProcess
from apps.webhooks.models import Delivery, DeliveryStatus, Event
from tests.factories import make_identity, make_person


def make_staff(email: str, *organizations: Organization, superuser: bool = False, password: str = "") -> User:
    user = make_person(email=email, password=password or "correct-horse-9")
    user.is_staff = True
    user.is_superuser = superuser
    user.save()
    for organization in organizations:
        Membership.objects.create(organization=organization, user=user)
    return user


def _when(created_at: datetime | None) -> datetime:
    return created_at or timezone.now()


def _parties(organization: Organization) -> tuple[ExternalPersonalIdentity, ExternalPersonalIdentity]:
    existing = list(ExternalPersonalIdentity.objects.filter(organization=organization)[:2])
    if len(existing) == 2:
        return existing[0], existing[1]
    slug = organization.slug
    return (
        make_identity(organization, email=f"initiator@{slug}.example.com"),
        make_identity(organization, email=f"receptor@{slug}.example.com"),
    )


def make_activity(
    organization: Organization, status: str = ActivityStatus.PENDING, created_at: datetime | None = None
) -> Activity:
    initiator, receptor = _parties(organization)
    when = _when(created_at)
    return Activity.objects.create(
        organization=organization,
        type=ActivityType.REQUEST,
        initiator=initiator,
        receptor=receptor,
        status=status,
        valid_until=when + timedelta(days=7),
        created_at=when,
    )


def make_process(
    organization: Organization,
    provider: str = "onfido",
    status: str = ProcessStatus.PENDING,
    created_at: datetime | None = None,
) -> VerificationProcess:
    when = _when(created_at)
    return VerificationProcess.objects.create(
        organization=organization,
        provider=provider,
        status=status,
        deadline_at=when + timedelta(days=1),
        created_at=when,
    )


def make_identification(
    organization: Organization,
    status: str = IdentificationStatus.CREATED,
    *,
    messages: tuple[str, ...] = (),
    code_verified: bool = False,
    created_at: datetime | None = None,
) -> OtpIdentification:
    """`messages`: the kinds (LINK, CODE) sent; a kind prefixed with "!" failed to send."""
    when = _when(created_at)
    identification = OtpIdentification.objects.create(
        organization=organization,
        actor_name="Ana",
        actor_surname="García",
        actor_email="ana@example.com",
        channel=Channel.EMAIL,
        status=status,
        expires_at=when + timedelta(days=1),
        code_verified_at=when if code_verified else None,
        created_at=when,
    )
    for kind in messages:
        failed = kind.startswith("!")
        OtpMessage.objects.create(
            identification=identification,
            kind=MessageKind(kind.lstrip("!")),
            channel=Channel.EMAIL,
            status=MessageStatus.FAILED if failed else MessageStatus.SENT,
        )
    return identification


def make_session(
    organization: Organization, status: str = SessionStatus.INITIALIZED, created_at: datetime | None = None
) -> TransferSession:
    when = _when(created_at)
    return TransferSession.objects.create(
        organization=organization,
        scopes=["first_name"],
        token_hash=hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        status=status,
        expires_at=when + timedelta(minutes=5),
        created_at=when,
    )


def make_delivery(
    organization: Organization,
    status: str = DeliveryStatus.SUCCEEDED,
    *,
    attempts: int = 1,
    status_code: int | None = None,
    error: str = "",
    url: str = "https://hooks.example.com/receive",
    created_at: datetime | None = None,
    **extra: Any,
) -> Delivery:
    when = _when(created_at)
    event = Event.objects.create(organization=organization, type="activity.status_changed", created_at=when)
    return Delivery.objects.create(
        event=event,
        organization=organization,
        url=url,
        status=status,
        attempt_count=attempts,
        last_status_code=status_code,
        last_error=error,
        created_at=when,
        **extra,
    )
