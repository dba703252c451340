from __future__ import annotations

import uuid
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django_fsm import RETURN_VALUE, FSMField, transition

from apps.audit.fsm import FSMModelMixin
from apps.core.encrypted_fields import EncryptedJSONField

CHANGE_PERMISSION = "verifications.change_verificationprocess"


class ProcessStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    PROCESSING = "processing", "Processing"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
    CANCELED = "canceled", "Canceled"
    FAILED = "failed", "Failed"


OPEN_STATUSES = (ProcessStatus.PENDING, ProcessStatus.PROCESSING)
FINAL_STATUSES = tuple(s for s in ProcessStatus if s not in OPEN_STATUSES)


class VerificationProcess(FSMModelMixin, models.Model):
    """An identity verification at one provider (seed 003), from pending to a final status."""

    EVENT_TYPE = "process.status_changed"
    STATE_FIELD = "status"

    id = models.UUIDField("processId", primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="processes")
    identity = models.ForeignKey(
        "identities.ExternalPersonalIdentity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="processes",
    )
    activity = models.ForeignKey(
        "activities.Activity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="verification_processes",
        help_text="The authorization (AT_004) this BioFace check is for.",
    )
    provider = models.CharField(
        max_length=64, help_text="onfido, eid, readid, facetec, signicatpaper, connect[:method] or sandbox."
    )
    process_type = models.CharField(max_length=32, blank=True)
    status = FSMField(default=ProcessStatus.PENDING, choices=ProcessStatus.choices, protected=True)
    # Personal data from the provider: encrypted at rest.
    provider_specific = EncryptedJSONField(null=True, blank=True)
    final_result = EncryptedJSONField(null=True, blank=True)
    raw_result = EncryptedJSONField(
        null=True,
        blank=True,
        help_text="The provider's raw result as received (the full result zip's provider-result.json only).",
    )
    fail_reason = models.JSONField(null=True, blank=True)
    notification_url = models.URLField(max_length=2000, blank=True)
    redirect_url = models.URLField(max_length=2000, blank=True)
    # For sandbox processes: the provider whose payload the tester chose.
    sandbox_provider = models.CharField(max_length=32, blank=True)
    deadline_at = models.DateTimeField(help_text="Still open after this, the process fails with reason timeout.")
    # Set once the person or staff asked for the personal data to be redacted (seed 003's
    # redactionRequested): status and timestamps stay, the provider's data is gone and never kept again.
    redaction_requested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "verification process"
        verbose_name_plural = "verification processes"
        indexes = [
            models.Index(fields=["organization", "status", "created_at"], name="process_org_status"),
            models.Index(fields=["organization", "created_at", "id"], name="process_org_created"),
            models.Index(fields=["created_at"], name="process_created"),
            models.Index(
                fields=["deadline_at"], condition=Q(status__in=["pending", "processing"]), name="process_open_deadline"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.process_type or ''} {self.status}".replace("  ", " ")

    @property
    def is_final(self) -> bool:
        return self.status in FINAL_STATUSES

    @property
    def is_sandbox(self) -> bool:
        """A sandbox process: test data, labelled as such, never a person's verified details."""
        return self.provider == "sandbox"

    @property
    def redaction_requested(self) -> bool:
        return self.redaction_requested_at is not None

    @property
    def adapter_name(self) -> str:
        """Which adapter evaluates this process's results (`connect:idin` → connect)."""
        if self.provider == "sandbox":
            return self.sandbox_provider
        return self.provider.split(":", 1)[0]

    def event_data(self) -> dict[str, Any]:
        return {"processId": str(self.id), "status": self.status, "provider": self.provider}

    @transition(field=status, source=ProcessStatus.PENDING, target=ProcessStatus.PROCESSING, custom={"admin": False})
    def start(self) -> None:
        """The person started verifying at the provider."""

    @transition(
        field=status,
        source=list(OPEN_STATUSES),
        target=RETURN_VALUE(
            ProcessStatus.ACCEPTED, ProcessStatus.REJECTED, ProcessStatus.INCONCLUSIVE, ProcessStatus.CANCELED
        ),
        custom={"admin": False},
    )
    def finish(self, *, status: str, final_result: dict[str, Any] | None) -> str:
        """The provider finished; its mapping rules decided `status` (its data is already stored)."""
        self.final_result = final_result if status == ProcessStatus.ACCEPTED else None
        return status

    @transition(
        field=status,
        source=list(OPEN_STATUSES),
        target=ProcessStatus.CANCELED,
        permission=CHANGE_PERMISSION,
        custom={"label": "Cancel"},
    )
    def cancel(self) -> None:
        """Canceled by the person at the provider, or by the organization."""

    @transition(field=status, source=list(OPEN_STATUSES), target=ProcessStatus.FAILED, custom={"admin": False})
    def fail(self, *, fail_reason: dict[str, Any]) -> None:
        self.fail_reason = fail_reason
