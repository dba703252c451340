from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.audit import reasons
from apps.audit.deadlines import Deadline
from apps.audit.events import EventPayload, Key, payload_of
from apps.audit.fsm import FSMModelMixin
from apps.core.encrypted_fields import EncryptedTextField

REVIEW_PERMISSION = "identifications.change_otpidentification"
MAX_FAILED_ATTEMPTS = 5


def _is_images_reviewer(identification: models.Model, user: Any) -> bool:
    """Only the staff member who took the images' review decides it, and only with the right to."""
    assert isinstance(identification, OtpIdentification)
    return identification.images_reviewer_id == getattr(user, "pk", None) and user.has_perm(REVIEW_PERMISSION)


class IdentificationStatus(models.TextChoices):
    CREATED = "CREATED", _("Created")
    IN_PROGRESS = "IN_PROGRESS", _("In progress")
    IDENTIFIED = "IDENTIFIED", _("Identified")
    FAILED = "FAILED", _("Failed")
    CANCELED = "CANCELED", _("Canceled")
    EXPIRED = "EXPIRED", _("Expired")


OPEN_STATUSES = (IdentificationStatus.CREATED, IdentificationStatus.IN_PROGRESS)
FINAL_STATUSES = tuple(s for s in IdentificationStatus if s not in OPEN_STATUSES)


class TwoFactorType(models.TextChoices):
    DOCUMENT_NUMBER = "DOCUMENT_NUMBER", _("Document number")
    EMAIL = "EMAIL", _("Email")
    PERSONAL_DOCUMENT_IMAGE = "PERSONAL_DOCUMENT_IMAGE", _("Personal document image")


class Channel(models.TextChoices):
    EMAIL = "EMAIL", _("Email")
    SMS = "SMS", "SMS"


class OtpIdentification(FSMModelMixin, models.Model):
    """An actor proving who they are with a one-time code and an optional second factor (seed 001)."""

    EVENT_TYPE = "identification.status_changed"
    STATE_FIELD = "status"
    EVENT_PAYLOAD = EventPayload(
        {
            "id": "id",
            "status": "status",
            "two_factor_type": Key("two_factor_type", blank_is_null=True),
            "channel": "channel",
        }
    )
    # Still open past expires_at, an identification expires (on read, or by the sweep).
    DEADLINES = (
        Deadline(
            "expires_at",
            tuple(s.value for s in OPEN_STATUSES),
            "expire",
            IdentificationStatus.EXPIRED.value,
            reasons.EXPIRED,
        ),
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="identifications",
        verbose_name=_("organization"),
    )
    # The actor's personal data: encrypted at rest; the hashes serve the open-identification rule.
    actor_name = EncryptedTextField(verbose_name=_("actor name"))
    actor_surname = EncryptedTextField(verbose_name=_("actor surname"))
    actor_email = EncryptedTextField(blank=True, verbose_name=_("actor email"))
    actor_phone = EncryptedTextField(blank=True, verbose_name=_("actor phone"))
    actor_document_number = EncryptedTextField(blank=True, verbose_name=_("actor document number"))
    actor_email_hash = models.CharField(
        max_length=64, blank=True, db_index=True, editable=False, verbose_name=_("actor email hash")
    )
    actor_document_hash = models.CharField(
        max_length=64, blank=True, db_index=True, editable=False, verbose_name=_("actor document hash")
    )
    two_factor_type = models.CharField(
        max_length=32, choices=TwoFactorType.choices, blank=True, verbose_name=_("two factor type")
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, verbose_name=_("channel"))
    status = FSMField(
        default=IdentificationStatus.CREATED,
        choices=IdentificationStatus.choices,
        protected=True,
        verbose_name=_("status"),
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    cancel_reason = models.TextField(blank=True, verbose_name=_("cancel reason"))
    fail_reason = models.CharField(max_length=200, blank=True, verbose_name=_("fail reason"))
    # The one-time code lives only as a keyed HMAC; the clear code is only ever in the message.
    code_hash = models.CharField(max_length=64, blank=True, editable=False, verbose_name=_("code hash"))
    code_expires_at = models.DateTimeField(null=True, blank=True, verbose_name=_("code expires at"))
    code_verified_at = models.DateTimeField(null=True, blank=True, verbose_name=_("code verified at"))
    failed_attempts = models.PositiveSmallIntegerField(default=0, verbose_name=_("failed attempts"))
    # PERSONAL_DOCUMENT_IMAGE: the two images, base64 inside a Fernet token, for staff review.
    front_image = EncryptedTextField(blank=True, editable=False, verbose_name=_("front image"))
    front_image_type = models.CharField(max_length=32, blank=True, editable=False, verbose_name=_("front image type"))
    back_image = EncryptedTextField(blank=True, editable=False, verbose_name=_("back image"))
    back_image_type = models.CharField(max_length=32, blank=True, editable=False, verbose_name=_("back image type"))
    images_submitted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("images submitted at"))
    # The staff member who took the images' review ("assign to me"); only they decide it.
    images_reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        db_index=False,  # the queue reads by status and submission time, never by reviewer
        related_name="+",
        verbose_name=_("images reviewer"),
    )
    images_assigned_at = models.DateTimeField(null=True, blank=True, verbose_name=_("images assigned at"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("OTP identification")
        verbose_name_plural = _("OTP identifications")
        indexes = [
            models.Index(fields=["organization", "status", "created_at"], name="ident_org_status"),
            models.Index(fields=["organization", "created_at", "id"], name="ident_org_created"),
            models.Index(fields=["created_at"], name="ident_created"),
            models.Index(
                fields=["expires_at"], condition=Q(status__in=["CREATED", "IN_PROGRESS"]), name="ident_open_expiry"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(channel)s identification (%(status)s)") % {
            "channel": self.get_channel_display(),
            "status": self.get_status_display(),
        }

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def awaiting_review(self) -> bool:
        return self.status == IdentificationStatus.IN_PROGRESS and self.images_submitted_at is not None

    def event_data(self) -> dict[str, Any]:
        return payload_of(self)

    def _images_submitted(self) -> bool:
        return self.images_submitted_at is not None

    def _images_unassigned(self) -> bool:
        return self.images_reviewer_id is None

    @transition(
        field=status,
        source=IdentificationStatus.CREATED,
        target=IdentificationStatus.IN_PROGRESS,
        custom={"admin": False},
    )
    def start(self) -> None:
        """The actor asked for their first code (opening the page changes nothing)."""

    @transition(
        field=status,
        source=IdentificationStatus.IN_PROGRESS,
        target=IdentificationStatus.IDENTIFIED,
        custom={"admin": False},
    )
    def identify(self) -> None:
        """The code, and the second factor if any, matched."""

    @transition(field=status, source=list(OPEN_STATUSES), target=IdentificationStatus.FAILED, custom={"admin": False})
    def fail(self, *, fail_reason: str) -> None:
        self.fail_reason = fail_reason[:200]

    @transition(
        field=status,
        source=list(OPEN_STATUSES),
        target=IdentificationStatus.CANCELED,
        custom={"admin": False, "label": _("Cancel")},
    )
    def cancel(self, *, cancel_reason: str) -> None:
        self.cancel_reason = cancel_reason

    @transition(field=status, source=list(OPEN_STATUSES), target=IdentificationStatus.EXPIRED, custom={"admin": False})
    def expire(self) -> None:
        """Past expires_at."""

    @transition(
        field=status,
        source=IdentificationStatus.IN_PROGRESS,
        target=IdentificationStatus.IN_PROGRESS,
        conditions=[_images_submitted, _images_unassigned],  # type: ignore[list-item]  # django-fsm's stubs take conditions on any Model, not on this one
        permission=REVIEW_PERMISSION,
        custom={"label": _("Assign the images' review to me")},
    )
    def assign_images(self, *, reviewer: Any) -> None:
        """A staff member takes the images' review; the status stays in progress."""
        self.images_reviewer = reviewer
        self.images_assigned_at = timezone.now()

    @transition(
        field=status,
        source=IdentificationStatus.IN_PROGRESS,
        target=IdentificationStatus.IDENTIFIED,
        conditions=[_images_submitted],  # type: ignore[list-item]  # django-fsm's stubs take conditions on any Model, not on this one
        permission=_is_images_reviewer,
        custom={"label": _("Approve document images")},
    )
    def approve(self) -> None:
        """Staff checked the document images against the actor's document number."""

    @transition(
        field=status,
        source=IdentificationStatus.IN_PROGRESS,
        target=IdentificationStatus.FAILED,
        conditions=[_images_submitted],  # type: ignore[list-item]  # django-fsm's stubs take conditions on any Model, not on this one
        permission=_is_images_reviewer,
        custom={"label": _("Reject document images")},
    )
    def reject(self) -> None:
        self.fail_reason = "document images rejected"


class MessageStatus(models.TextChoices):
    SENT = "SENT", _("Sent")
    FAILED = "FAILED", _("Failed")


class MessageKind(models.TextChoices):
    LINK = "LINK", _("Identification link")
    CODE = "CODE", _("One-time code")


class OtpMessage(models.Model):
    """One outgoing message to the actor: who, over which channel, when, and whether it left.

    The body is never stored: a code message's body holds the code in clear.
    """

    identification = models.ForeignKey(
        OtpIdentification, on_delete=models.CASCADE, related_name="messages", verbose_name=_("identification")
    )
    kind = models.CharField(max_length=8, choices=MessageKind.choices, verbose_name=_("kind"))
    channel = models.CharField(max_length=8, choices=Channel.choices, verbose_name=_("channel"))
    destination = EncryptedTextField(verbose_name=_("destination"))
    status = models.CharField(max_length=8, choices=MessageStatus.choices, verbose_name=_("status"))
    error = models.CharField(max_length=300, blank=True, verbose_name=_("error"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        ordering = ("created_at", "id")
        verbose_name = _("message")
        verbose_name_plural = _("messages")

    def __str__(self) -> str:
        return gettext("%(kind)s by %(channel)s (%(status)s)") % {
            "kind": self.get_kind_display(),
            "channel": self.get_channel_display(),
            "status": self.get_status_display(),
        }
