from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.audit import reasons
from apps.audit.deadlines import Deadline, effective_state
from apps.audit.events import EventPayload, Key, payload_of
from apps.audit.fsm import FSMModelMixin
from apps.core.encrypted_fields import EncryptedJSONField, EncryptedTextField

CHANGE_PERMISSION = "activities.change_activity"


class ActivityType(models.TextChoices):
    REQUEST = "AT_001", _("Request details")
    SHARE = "AT_002", _("Share details")
    SWAP = "AT_003", _("Swap details")
    AUTHORIZATION = "AT_004", _("Authorization request")


class ActivityStatus(models.TextChoices):
    # Stored; never shown as such: the initiator sees SENT, the receptor ACTION_REQUIRED.
    PENDING = "PENDING", _("Pending")
    ACCEPTED = "ACCEPTED", _("Accepted")
    DECLINED = "DECLINED", _("Declined")
    CANCELED = "CANCELED", _("Canceled")
    EXPIRED = "EXPIRED", _("Expired")
    COMPLETED = "COMPLETED", _("Completed")


class Party(models.TextChoices):
    INITIATOR = "initiator", _("Initiator")
    RECEPTOR = "receptor", _("Receptor")


class StatusWord(models.TextChoices):
    """How a person's page names an activity's state: the shown status (API.md), with CANCELED
    and EXPIRED told apart by why they ended (the audit trail's reason). Never stored."""

    SENT = "SENT", _("Sent")
    ACTION_REQUIRED = "ACTION_REQUIRED", _("Action required")
    ACCEPTED = "ACCEPTED", _("Accepted")
    DECLINED = "DECLINED", _("Declined")
    COMPLETED = "COMPLETED", _("Completed")
    CANCELED = "CANCELED", _("Canceled")
    WITHDRAWN = "WITHDRAWN", _("Withdrawn")
    TIMED_OUT = "TIMED_OUT", _("Not answered in time")
    EXPIRED = "EXPIRED", _("Expired")
    REVOKED = "REVOKED", _("Revoked")


SHOWN_PENDING = {Party.INITIATOR: "SENT", Party.RECEPTOR: "ACTION_REQUIRED"}
SHARING_STATUSES = (ActivityStatus.ACCEPTED, ActivityStatus.COMPLETED)


def _snapshots_delete(activity_ids: Any) -> None:
    """Leaving a sharing status deletes the shared values (Activity.expire, in bulk)."""
    SharedSnapshot.objects.filter(activity_id__in=activity_ids).delete()


def _shown(party: Party) -> Key:
    # Never PENDING, not even in events: the initiator sees SENT, the receptor ACTION_REQUIRED.
    return Key("status", effective=True, shown={ActivityStatus.PENDING.value: SHOWN_PENDING[party]})


class Activity(FSMModelMixin, models.Model):
    """A consent interaction between two identities of one organization (seed 000)."""

    EVENT_TYPE = "activity.status_changed"
    STATE_FIELD = "status"
    # `status` is the initiator's view, as in the API's default.
    EVENT_PAYLOAD = EventPayload(
        {
            "id": "id",
            "type": "type",
            "status": _shown(Party.INITIATOR),
            "initiator_status": _shown(Party.INITIATOR),
            "receptor_status": _shown(Party.RECEPTOR),
        }
    )
    # A request unanswered past valid_until is canceled; a sharing past sharing_until expires.
    # The sweeps move them in bulk (apps.audit.services.sweep_overdue); until then every read
    # shows the final status (effective_status).
    DEADLINES = (
        Deadline(
            "valid_until",
            (ActivityStatus.PENDING.value,),
            "cancel",
            ActivityStatus.CANCELED.value,
            reasons.VALIDITY_PERIOD_ENDED,
            sweep_label="validity sweep",
            async_commit=True,
        ),
        Deadline(
            "sharing_until",
            (ActivityStatus.ACCEPTED.value, ActivityStatus.COMPLETED.value),
            "expire",
            ActivityStatus.EXPIRED.value,
            reasons.SHARING_PERIOD_ENDED,
            sweep_label="sharing sweep",
            also=_snapshots_delete,
            async_commit=True,
        ),
    )

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="activities",
        verbose_name=_("organization"),
    )
    type = models.CharField(max_length=8, choices=ActivityType.choices, verbose_name=_("type"))
    initiator = models.ForeignKey(
        "identities.ExternalPersonalIdentity",
        on_delete=models.PROTECT,
        related_name="initiated_activities",
        verbose_name=_("initiator"),
    )
    receptor = models.ForeignKey(
        "identities.ExternalPersonalIdentity",
        on_delete=models.PROTECT,
        related_name="received_activities",
        verbose_name=_("receptor"),
    )
    requirements = models.JSONField(
        default=list, help_text=_('[{"detail": "first_name", "required": true}, ...]'), verbose_name=_("requirements")
    )
    offered_details = models.JSONField(
        default=list, help_text=_("Details the initiator gives (AT_002, AT_003)."), verbose_name=_("offered details")
    )
    purpose = models.TextField(blank=True, verbose_name=_("purpose"))
    authorization = models.JSONField(
        null=True, blank=True, help_text=_("AT_004: {description, requires_bioface}."), verbose_name=_("authorization")
    )
    status = FSMField(
        default=ActivityStatus.PENDING, choices=ActivityStatus.choices, protected=True, verbose_name=_("status")
    )
    valid_until = models.DateTimeField(verbose_name=_("valid until"))
    sharing_period = models.DurationField(null=True, blank=True, verbose_name=_("sharing period"))
    sharing_until = models.DateTimeField(null=True, blank=True, verbose_name=_("sharing until"))
    accepted_details = models.JSONField(default=list, verbose_name=_("accepted details"))
    accepted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("accepted at"))
    initiator_completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("initiator completed at"))
    receptor_completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("receptor completed at"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(fields=["organization", "status", "created_at"], name="activity_org_status"),
            # The API list's order (newest first, keyset on created_at, id) and the back office's.
            models.Index(fields=["organization", "created_at", "id"], name="activity_org_created"),
            models.Index(fields=["created_at"], name="activity_created"),
            models.Index(fields=["valid_until"], condition=Q(status="PENDING"), name="activity_pending_deadline"),
            models.Index(
                fields=["sharing_until"],
                condition=Q(status__in=["ACCEPTED", "COMPLETED"]),
                name="activity_sharing_deadline",
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s (%(status)s)") % {"name": self.get_type_display(), "status": self.get_status_display()}

    # --- Reading ------------------------------------------------------------------------

    def effective_status(self, now: datetime | None = None) -> str:
        """The status with overdue deadlines applied, before any sweep has run (read-time guard)."""
        return effective_state(self, now or timezone.now())

    def status_for(self, party: str, now: datetime | None = None) -> str:
        """SENT to the initiator and ACTION_REQUIRED to the receptor while pending; never PENDING."""
        status = self.effective_status(now)
        return SHOWN_PENDING[Party(party)] if status == ActivityStatus.PENDING else status

    def identity_of(self, party: str) -> Any:
        return self.initiator if party == Party.INITIATOR else self.receptor

    def event_data(self) -> dict[str, Any]:
        return payload_of(self)

    # --- Transitions --------------------------------------------------------------------

    @transition(field=status, source=ActivityStatus.PENDING, target=ActivityStatus.ACCEPTED, custom={"admin": False})
    def accept(self, *, accepted_details: list[str], sharing_period: timedelta | None) -> None:
        """An authorization (AT_004) shares nothing, so it has no sharing period."""
        now = timezone.now()
        self.accepted_details = accepted_details
        self.sharing_period = sharing_period
        self.sharing_until = now + sharing_period if sharing_period else None
        self.accepted_at = now

    @transition(field=status, source=ActivityStatus.PENDING, target=ActivityStatus.DECLINED, custom={"admin": False})
    def decline(self) -> None:
        pass

    @transition(
        field=status,
        source=ActivityStatus.PENDING,
        target=ActivityStatus.CANCELED,
        permission=CHANGE_PERMISSION,
        custom={"label": _("Cancel")},
    )
    def cancel(self) -> None:
        """Withdrawn by the initiator, canceled by staff, or left unanswered past valid_until."""

    @transition(field=status, source=ActivityStatus.ACCEPTED, target=ActivityStatus.COMPLETED, custom={"admin": False})
    def complete(self) -> None:
        pass

    @transition(
        field=status,
        source=list(SHARING_STATUSES),
        target=ActivityStatus.EXPIRED,
        permission=CHANGE_PERMISSION,
        custom={"label": _("Expire (revoke sharing)")},
    )
    def expire(self) -> None:
        """The sharing period ended or was revoked: the shared snapshot is deleted with it."""
        SharedSnapshot.objects.filter(activity=self).delete()


class SharedSnapshot(models.Model):
    """What one party gave the other, as it was at consent time; deleted when the sharing ends."""

    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="snapshots", verbose_name=_("activity")
    )
    giver = models.CharField(max_length=16, choices=Party.choices, verbose_name=_("giver"))
    values = EncryptedJSONField(verbose_name=_("values"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("shared snapshot")
        verbose_name_plural = _("shared snapshots")
        constraints = [models.UniqueConstraint(fields=["activity", "giver"], name="unique_snapshot_per_giver")]

    def __str__(self) -> str:
        return gettext("What the %(giver)s gave in activity %(id)s") % {
            "giver": self.get_giver_display().lower(),
            "id": str(self.activity_id)[:8],
        }


class ConsentReceipt(models.Model):
    """Proof of one consent: who gave what to whom, for which purpose and how long. Kept after expiry;
    it names the fields, never their values."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    activity = models.ForeignKey(
        Activity, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("activity")
    )
    person = models.ForeignKey(
        "people.User", on_delete=models.CASCADE, related_name="consent_receipts", verbose_name=_("person")
    )
    party = models.CharField(max_length=16, choices=Party.choices, verbose_name=_("party"))
    # The other party's name: personal data, so encrypted like the rest.
    recipient = EncryptedTextField(help_text=_("Who receives the details."), verbose_name=_("recipient"))
    organization_name = models.CharField(max_length=200, verbose_name=_("organization name"))
    details = models.JSONField(default=list, verbose_name=_("details"))
    purpose = models.TextField(blank=True, verbose_name=_("purpose"))
    sharing_until = models.DateTimeField(null=True, blank=True, verbose_name=_("sharing until"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("consent receipt")
        verbose_name_plural = _("consent receipts")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return gettext("Consent receipt %(id)s of %(date)s") % {
            "id": str(self.id)[:8],
            "date": date_format(timezone.localtime(self.created_at), "SHORT_DATE_FORMAT"),
        }

    def as_json(self) -> dict[str, Any]:
        return {
            "receipt_id": str(self.id),
            "activity_id": str(self.activity_id),
            "activity_type": self.activity.type,
            "given_by": self.party,
            "recipient": self.recipient,
            "organization": self.organization_name,
            "details": self.details,
            "purpose": self.purpose,
            "sharing_until": self.sharing_until.strftime("%Y-%m-%dT%H:%M:%SZ") if self.sharing_until else None,
            "consented_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
