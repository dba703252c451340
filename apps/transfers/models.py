from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

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
from apps.core.encrypted_fields import EncryptedJSONField, EncryptedTextField


class SessionStatus(models.TextChoices):
    INITIALIZED = "initialized", _("Initialized")
    RETRIEVED = "retrieved", _("Retrieved")
    CONFIRMED = "confirmed", _("Confirmed")
    DECLINED = "declined", _("Declined")
    EXPIRED = "expired", _("Expired")


OPEN_STATUSES = (SessionStatus.INITIALIZED, SessionStatus.RETRIEVED)

# A session's lifetime (expires_in): its default and the bounds an integrator may ask for.
DEFAULT_EXPIRES_IN = timedelta(minutes=10)
MIN_EXPIRES_IN = timedelta(seconds=30)
MAX_EXPIRES_IN = timedelta(hours=1)


class TransferSession(FSMModelMixin, models.Model):
    """A short-lived cross-device data-transfer session (seed 004)."""

    EVENT_TYPE = "session.status_changed"
    STATE_FIELD = "status"
    # No personal values: ids and the status only.
    EVENT_PAYLOAD = EventPayload(
        {"session_id": "id", "status": "status", "replaced_by": Key("replaced_by", omit_if_null=True)}
    )
    # Still open past expires_at, a session expires (countdown task, on read, or by the sweep).
    DEADLINES = (
        Deadline(
            "expires_at", tuple(s.value for s in OPEN_STATUSES), "expire", SessionStatus.EXPIRED.value, reasons.EXPIRED
        ),
    )

    id = models.UUIDField(_("session id"), primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="transfer_sessions",
        verbose_name=_("organization"),
    )
    scopes = models.JSONField(default=list, help_text=_("Requested personal-detail names."), verbose_name=_("scopes"))
    vendor_data = models.CharField(max_length=1000, blank=True, verbose_name=_("vendor data"))
    callback = models.URLField(max_length=2000, blank=True, verbose_name=_("callback"))
    # sha256 of the session token; the token itself is shown once, at creation.
    token_hash = models.CharField(max_length=64, editable=False, verbose_name=_("token hash"))
    status = FSMField(
        default=SessionStatus.INITIALIZED, choices=SessionStatus.choices, protected=True, verbose_name=_("status")
    )
    expires_at = models.DateTimeField(verbose_name=_("expires at"))
    person = models.ForeignKey(
        "people.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="transfer_sessions",
        verbose_name=_("person"),
    )
    accepted_scopes = models.JSONField(default=list, blank=True, verbose_name=_("accepted scopes"))
    # The confirmed values, encrypted; purged after SESSION_DATA_RETENTION_SECONDS.
    data = EncryptedJSONField(null=True, blank=True, verbose_name=_("data"))
    data_purged_at = models.DateTimeField(null=True, blank=True, verbose_name=_("data purged at"))
    answered_at = models.DateTimeField(null=True, blank=True, verbose_name=_("answered at"))
    replaced_by = models.OneToOneField(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replaces", verbose_name=_("replaced by")
    )
    # The replacement's token, encrypted, so that every holder of this session's token (a
    # second display tab, a retried request) gets the same replacement from `renew`.
    # Cleared with the confirmed data after the retention window.
    replacement_token = EncryptedTextField(null=True, blank=True, editable=False, verbose_name=_("replacement token"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("data-transfer session")
        verbose_name_plural = _("data-transfer sessions")
        indexes = [
            models.Index(fields=["organization", "created_at", "id"], name="transfer_org_created"),
            models.Index(fields=["created_at"], name="transfer_created"),
            models.Index(
                fields=["expires_at"],
                condition=Q(status__in=["initialized", "retrieved"]),
                name="transfer_open_expiry",
            ),
            models.Index(
                fields=["answered_at"],
                condition=Q(data__isnull=False),
                name="transfer_data_held",
            ),
        ]

    def __str__(self) -> str:
        return gettext("Data-transfer session %(id)s (%(status)s)") % {
            "id": str(self.pk)[:8],
            "status": self.get_status_display(),
        }

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def matching_code(self) -> str:
        """A short code shown on both screens so the person can check they match."""
        return f"{self.pk.int % 10000:04d}"

    def event_data(self) -> dict[str, Any]:
        return payload_of(self)

    @transition(field=status, source=SessionStatus.INITIALIZED, target=SessionStatus.RETRIEVED)
    def retrieve(self, *, person: Any) -> None:
        """The person opened the session on their phone."""
        self.person = person

    @transition(field=status, source=SessionStatus.RETRIEVED, target=SessionStatus.CONFIRMED)
    def confirm(self, *, person: Any, accepted_scopes: list[str], data: dict[str, Any]) -> None:
        self.person = person
        self.accepted_scopes = accepted_scopes
        self.data = data
        self.answered_at = timezone.now()

    @transition(field=status, source=SessionStatus.RETRIEVED, target=SessionStatus.DECLINED)
    def decline(self, *, person: Any) -> None:
        self.person = person
        self.answered_at = timezone.now()

    @transition(field=status, source=list(OPEN_STATUSES), target=SessionStatus.EXPIRED)
    def expire(self, *, replaced_by: TransferSession | None = None, replacement_token: str | None = None) -> None:
        if replaced_by is not None:
            self.replaced_by = replaced_by
            self.replacement_token = replacement_token
