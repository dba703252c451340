from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition

from apps.audit import reasons
from apps.audit.deadlines import Deadline
from apps.audit.events import EventPayload, payload_of
from apps.audit.fsm import FSMModelMixin
from apps.core.encrypted_fields import EncryptedJSONField
from apps.verifications.providers import provider_label

CHANGE_PERMISSION = "verifications.change_verificationprocess"


class ProcessStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSING = "processing", _("Processing")
    ACCEPTED = "accepted", _("Accepted")
    REJECTED = "rejected", _("Rejected")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")
    CANCELED = "canceled", _("Canceled")
    FAILED = "failed", _("Failed")


OPEN_STATUSES = (ProcessStatus.PENDING, ProcessStatus.PROCESSING)
TIMEOUT_REASON = {"type": "timeout", "message": "The process was not finished in time."}
FINAL_STATUSES = tuple(s for s in ProcessStatus if s not in OPEN_STATUSES)


class VerificationProcess(FSMModelMixin, models.Model):
    """An identity verification at one provider (seed 003), from pending to a final status."""

    EVENT_TYPE = "process.status_changed"
    STATE_FIELD = "status"
    EVENT_PAYLOAD = EventPayload({"processId": "id", "status": "status", "provider": "provider"})
    # Still open past deadline_at, a process fails with reason timeout (on read, or by the sweep).
    DEADLINES = (
        Deadline(
            "deadline_at",
            tuple(s.value for s in OPEN_STATUSES),
            "fail",
            ProcessStatus.FAILED.value,
            reasons.TIMEOUT,
            read_label="timeout",
            sweep_label="timeout sweep",
            kwargs={"fail_reason": TIMEOUT_REASON},
            values={"fail_reason": TIMEOUT_REASON},
        ),
    )

    id = models.UUIDField(_("process id"), primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="processes", verbose_name=_("organization")
    )
    identity = models.ForeignKey(
        "identities.ExternalPersonalIdentity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="processes",
        verbose_name=_("identity"),
    )
    activity = models.ForeignKey(
        "activities.Activity",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="verification_processes",
        help_text=_("The authorization (AT_004) this BioFace check is for."),
        verbose_name=_("activity"),
    )
    provider = models.CharField(
        max_length=64,
        help_text=_("onfido, eid, readid, facetec, signicatpaper, connect[:method] or sandbox."),
        verbose_name=_("provider"),
    )
    process_type = models.CharField(max_length=32, blank=True, verbose_name=_("process type"))
    status = FSMField(
        default=ProcessStatus.PENDING, choices=ProcessStatus.choices, protected=True, verbose_name=_("status")
    )
    # Personal data from the provider: encrypted at rest.
    provider_specific = EncryptedJSONField(null=True, blank=True, verbose_name=_("provider specific"))
    final_result = EncryptedJSONField(null=True, blank=True, verbose_name=_("final result"))
    raw_result = EncryptedJSONField(
        null=True,
        blank=True,
        help_text=_("The provider's raw result as received (the full result zip's provider-result.json only)."),
        verbose_name=_("raw result"),
    )
    fail_reason = models.JSONField(null=True, blank=True, verbose_name=_("fail reason"))
    notification_url = models.URLField(max_length=2000, blank=True, verbose_name=_("notification URL"))
    redirect_url = models.URLField(max_length=2000, blank=True, verbose_name=_("redirect URL"))
    # For sandbox processes: the provider whose payload the tester chose.
    sandbox_provider = models.CharField(max_length=32, blank=True, verbose_name=_("sandbox provider"))
    deadline_at = models.DateTimeField(
        help_text=_("Still open after this, the process fails with reason timeout."), verbose_name=_("deadline at")
    )
    # Set once the person or staff asked for the personal data to be redacted (seed 003's
    # redactionRequested): status and timestamps stay, the provider's data is gone and never kept again.
    redaction_requested_at = models.DateTimeField(null=True, blank=True, verbose_name=_("redaction requested at"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("verification process")
        verbose_name_plural = _("verification processes")
        indexes = [
            models.Index(fields=["organization", "status", "created_at"], name="process_org_status"),
            models.Index(fields=["organization", "created_at", "id"], name="process_org_created"),
            models.Index(fields=["created_at"], name="process_created"),
            models.Index(
                fields=["deadline_at"], condition=Q(status__in=["pending", "processing"]), name="process_open_deadline"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(provider)s verification %(id)s (%(status)s)") % {
            "provider": provider_label(self.provider),
            "id": str(self.pk)[:8],
            "status": self.get_status_display(),
        }

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
        return payload_of(self)

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
        custom={"label": _("Cancel")},
    )
    def cancel(self) -> None:
        """Canceled by the person at the provider, or by the organization."""

    @transition(field=status, source=list(OPEN_STATUSES), target=ProcessStatus.FAILED, custom={"admin": False})
    def fail(self, *, fail_reason: dict[str, Any]) -> None:
        self.fail_reason = fail_reason


class ConnectedProvider(models.TextChoices):
    """Providers an organization can connect its own account of (API.md "Provider connections")."""

    ONFIDO = "onfido", "Onfido"
    CONNECT = "connect", "OpenID Connect"


class ProviderConnection(models.Model):
    """An organization's own account at a provider: with it, processes start at the provider and
    their results are read back (seed 003); without it, the signed-callback integration stays.

    `settings` holds the account's secrets (API tokens, client secrets): encrypted, never returned."""

    EVENT_TYPE = "provider.connection_changed"
    STATE_FIELD = "provider"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        related_name="provider_connections",
        verbose_name=_("organization"),
    )
    provider = models.CharField(max_length=32, choices=ConnectedProvider.choices, verbose_name=_("provider"))
    settings = EncryptedJSONField(
        help_text=_("The provider's settings, secrets included (encrypted, never shown)."), verbose_name=_("settings")
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("provider connection")
        verbose_name_plural = _("provider connections")
        constraints = [
            models.UniqueConstraint(fields=["organization", "provider"], name="provider_connection_one_per_org"),
        ]

    def __str__(self) -> str:
        return gettext("%(provider)s connection of %(organization)s") % {
            "provider": self.get_provider_display(),
            "organization": self.organization,
        }

    def event_data(self) -> dict[str, Any]:
        # Which provider, never its settings.
        return {"provider": self.provider, "connectionId": str(self.pk)}


class ProviderRun(models.Model):
    """A process started at a connected provider: where the person goes, the provider's own
    reference for it, and what the hand-off keeps server-side (PKCE verifier, nonce; encrypted)."""

    process = models.OneToOneField(
        VerificationProcess, on_delete=models.CASCADE, related_name="provider_run", verbose_name=_("process")
    )
    connection = models.ForeignKey(
        ProviderConnection, on_delete=models.SET_NULL, null=True, related_name="runs", verbose_name=_("connection")
    )
    reference = models.CharField(
        max_length=200,
        blank=True,
        db_index=True,
        help_text=_("The provider's id of the run."),
        verbose_name=_("reference"),
    )
    url = models.URLField(
        max_length=4000, blank=True, help_text=_("Where the person verifies, at the provider."), verbose_name=_("URL")
    )
    data = EncryptedJSONField(null=True, blank=True, verbose_name=_("data"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("provider run")
        verbose_name_plural = _("provider runs")

    def __str__(self) -> str:
        return gettext("Run at the provider of verification %(id)s") % {"id": str(self.process_id)[:8]}


class ReviewState(models.TextChoices):
    PENDING = "review_pending", _("Waiting for a reviewer")
    ASSIGNED = "assigned", _("Assigned")
    DECIDED = "decided", _("Decided")


class ReviewDecision(models.TextChoices):
    ACCEPTED = "accepted", _("Accepted by staff")
    REJECTED = "rejected", _("Rejected by staff")


def _is_assignee(review: models.Model, user: Any) -> bool:
    """Only the staff member the review is assigned to decides it, and only with the right to."""
    assert isinstance(review, ProcessReview)
    return review.assignee_id == getattr(user, "pk", None) and user.has_perm(CHANGE_PERMISSION)


class ProcessReview(FSMModelMixin, models.Model):
    """A compliance officer's review of an inconclusive process (seed 003: inconclusive is final,
    the provider's status never changes again). Its own state machine, REVIEW_PENDING → ASSIGNED
    → DECIDED; each step is audited and sent to the organization as a process.status_changed
    event carrying the review."""

    EVENT_TYPE = "process.status_changed"
    STATE_FIELD = "state"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    process = models.OneToOneField(
        VerificationProcess, on_delete=models.CASCADE, related_name="review", verbose_name=_("verification process")
    )
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("organization")
    )
    state = FSMField(
        _("review state"),
        default=ReviewState.PENDING,
        choices=ReviewState.choices,
        protected=True,
        max_length=32,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned to"),
    )
    decision = models.CharField(_("decision"), max_length=16, choices=ReviewDecision.choices, blank=True)
    entered_at = models.DateTimeField(_("in review since"), default=timezone.now)
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("review queue")
        indexes = [models.Index(fields=["organization", "state", "entered_at"], name="review_org_state")]

    def __str__(self) -> str:
        return gettext("Review of a %(provider)s process") % {"provider": provider_label(self.process.provider)}

    def event_data(self) -> dict[str, Any]:
        return {
            **self.process.event_data(),
            "review": {"state": self.state, "decision": self.decision or None},
        }

    @transition(
        field=state,
        source=ReviewState.PENDING,
        target=ReviewState.ASSIGNED,
        permission=CHANGE_PERMISSION,
        custom={"label": _("Assign to me")},
    )
    def assign(self, *, assignee: Any) -> None:
        self.assignee = assignee
        self.assigned_at = timezone.now()

    @transition(
        field=state,
        source=ReviewState.ASSIGNED,
        target=ReviewState.DECIDED,
        permission=_is_assignee,
        custom={"label": _("Accept the verification")},
    )
    def accept(self) -> None:
        self.decision = ReviewDecision.ACCEPTED
        self.decided_at = timezone.now()

    @transition(
        field=state,
        source=ReviewState.ASSIGNED,
        target=ReviewState.DECIDED,
        permission=_is_assignee,
        custom={"label": _("Reject the verification")},
    )
    def reject(self) -> None:
        self.decision = ReviewDecision.REJECTED
        self.decided_at = timezone.now()
