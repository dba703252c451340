from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.encrypted_fields import EncryptedTextField


class SigningSecrets(models.Model):
    """A Standard Webhooks secret; during a rotation the previous one keeps signing for a while."""

    secret = EncryptedTextField(editable=False, verbose_name=_("secret"))
    previous_secret = EncryptedTextField(blank=True, editable=False, verbose_name=_("previous secret"))
    previous_secret_expires_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("previous secret expires at")
    )

    class Meta:
        abstract = True

    def signing_secrets(self, *, now: datetime | None = None) -> list[str]:
        secrets = [self.secret]
        now = now or timezone.now()
        if self.previous_secret and self.previous_secret_expires_at and self.previous_secret_expires_at > now:
            secrets.append(self.previous_secret)
        return secrets


class WebhookEndpoint(SigningSecrets):
    """Where an organization wants its events, signed with a secret only it and we know."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="webhooks", verbose_name=_("organization")
    )
    url = models.URLField(max_length=2000, verbose_name=_("URL"))
    events = models.JSONField(
        default=list, help_text=_("Event types this endpoint receives."), verbose_name=_("events")
    )
    description = models.CharField(max_length=500, blank=True, verbose_name=_("description"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))

    class Meta:
        ordering = ("-created_at",)
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class NotificationSecret(SigningSecrets):
    """Signs an organization's per-object notifications (a process's notificationUrl, a session's callback)."""

    organization = models.OneToOneField(
        "organizations.Organization",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="notification_secret",
        verbose_name=_("organization"),
    )
    rotated_at = models.DateTimeField(default=timezone.now, verbose_name=_("rotated at"))

    class Meta:
        verbose_name = _("notification secret")
        verbose_name_plural = _("notification secrets")

    def __str__(self) -> str:
        return gettext("notification secret of %(organization)s") % {"organization": self.organization}


class Event(models.Model):
    """A domain event: a published audit transition (or a ping). Its id is the webhook-id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organization"),
    )
    transition = models.OneToOneField(
        "audit.Transition",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="event",
        verbose_name=_("transition"),
    )
    type = models.CharField(max_length=64, verbose_name=_("type"))
    data = models.JSONField(default=dict, verbose_name=_("data"))
    # False for per-object notifications, whose body is `data` itself (e.g. {processId, status}).
    envelope = models.BooleanField(default=True, verbose_name=_("envelope"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["organization", "type", "created_at"], name="event_org_type")]

    def __str__(self) -> str:
        return gettext("%(type)s event %(id)s") % {"type": self.type, "id": str(self.id)[:8]}

    @property
    def message_id(self) -> str:
        return f"msg_{self.id.hex}"

    def body(self) -> dict[str, object]:
        if not self.envelope:
            return self.data
        return {
            "id": self.message_id,
            "type": self.type,
            "created_at": self.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": self.data,
        }


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SUCCEEDED = "succeeded", _("Succeeded")
    DEAD = "dead", _("Dead")


# A delivery that died, or whose last attempt failed, and that has not succeeded since: the
# back-office dashboard's recent failures, read newest first through the partial indexes below
# (a few rows among a table of millions).
DELIVERY_FAILING = ~Q(status=DeliveryStatus.SUCCEEDED) & (
    Q(status=DeliveryStatus.DEAD) | ~Q(last_error="") | Q(last_status_code__gte=300)
)


class Delivery(models.Model):
    """One event on its way to one endpoint, across all its attempts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("event"))
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, related_name="+", verbose_name=_("organization")
    )
    # Empty for a per-object notification, which is signed with the organization's NotificationSecret.
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("endpoint"),
    )
    url = models.URLField(max_length=2000, verbose_name=_("URL"))
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING, verbose_name=_("status")
    )
    attempt_count = models.PositiveSmallIntegerField(default=0, verbose_name=_("attempt count"))
    next_attempt_at = models.DateTimeField(null=True, blank=True, verbose_name=_("next attempt at"))
    # When a Celery task was last queued for it; the relay re-queues only stale ones.
    enqueued_at = models.DateTimeField(null=True, blank=True, verbose_name=_("enqueued at"))
    # How often the relay queued it again without a task claiming it: each re-queue doubles
    # the wait before the next, so a long queue is not flooded with copies of its backlog.
    requeues = models.PositiveSmallIntegerField(default=0, editable=False, verbose_name=_("requeues"))
    claimed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("claimed at"))
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("last status code"))
    last_error = models.TextField(blank=True, verbose_name=_("last error"))
    last_response_excerpt = models.TextField(blank=True, verbose_name=_("last response excerpt"))
    succeeded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("succeeded at"))
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("redelivery of")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("delivery")
        ordering = ("-created_at",)
        verbose_name_plural = _("deliveries")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_due",
            ),
            models.Index(fields=["endpoint", "created_at"], name="delivery_endpoint_time"),
            models.Index(fields=["organization", "created_at"], name="delivery_org_time"),
            models.Index(fields=["created_at"], name="delivery_created"),
            models.Index(fields=["-updated_at"], condition=DELIVERY_FAILING, name="delivery_failing"),
            models.Index(
                fields=["organization", "-updated_at"], condition=DELIVERY_FAILING, name="delivery_org_failing"
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(type)s to %(url)s (%(status)s)") % {
            "type": self.event.type,
            "url": self.url,
            "status": self.get_status_display(),
        }


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: what was sent back, or what went wrong."""

    delivery = models.ForeignKey(
        Delivery, on_delete=models.CASCADE, related_name="attempts", verbose_name=_("delivery")
    )
    number = models.PositiveSmallIntegerField(verbose_name=_("number"))
    started_at = models.DateTimeField(default=timezone.now, verbose_name=_("started at"))
    duration_ms = models.PositiveIntegerField(default=0, verbose_name=_("duration (ms)"))
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, verbose_name=_("status code"))
    error = models.TextField(blank=True, verbose_name=_("error"))
    response_excerpt = models.TextField(blank=True, verbose_name=_("response excerpt"))

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ("delivery", "number")
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="unique_attempt_number")]

    def __str__(self) -> str:
        return gettext("attempt %(number)s: %(result)s") % {
            "number": self.number,
            "result": self.status_code or self.error,
        }
