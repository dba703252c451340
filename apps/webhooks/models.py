from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.encrypted_fields import EncryptedTextField


class SigningSecrets(models.Model):
    """A Standard Webhooks secret; during a rotation the previous one keeps signing for a while."""

    secret = EncryptedTextField(editable=False)
    previous_secret = EncryptedTextField(blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True, editable=False)

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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event types this endpoint receives.")
    description = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ("-created_at",)
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url


class NotificationSecret(SigningSecrets):
    """Signs an organization's per-object notifications (a process's notificationUrl, a session's callback)."""

    organization = models.OneToOneField(
        "organizations.Organization", on_delete=models.CASCADE, primary_key=True, related_name="notification_secret"
    )
    rotated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"notification secret of {self.organization_id}"


class Event(models.Model):
    """A domain event: a published audit transition (or a ping). Its id is the webhook-id."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        "organizations.Organization", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    transition = models.OneToOneField(
        "audit.Transition", on_delete=models.PROTECT, null=True, blank=True, related_name="event"
    )
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    # False for per-object notifications, whose body is `data` itself (e.g. {processId, status}).
    envelope = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("-created_at",)
        indexes = [models.Index(fields=["organization", "type", "created_at"], name="event_org_type")]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"

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
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SUCCEEDED = "succeeded", "Succeeded"
    DEAD = "dead", "Dead"


class Delivery(models.Model):
    """One event on its way to one endpoint, across all its attempts."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    organization = models.ForeignKey("organizations.Organization", on_delete=models.CASCADE, related_name="+")
    # Empty for a per-object notification, which is signed with the organization's NotificationSecret.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, null=True, blank=True, related_name="deliveries"
    )
    url = models.URLField(max_length=2000)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempt_count = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # When a Celery task was last queued for it; the relay re-queues only stale ones.
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # How often the relay queued it again without a task claiming it: each re-queue doubles
    # the wait before the next, so a long queue is not flooded with copies of its backlog.
    requeues = models.PositiveSmallIntegerField(default=0, editable=False)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_response_excerpt = models.TextField(blank=True)
    succeeded_at = models.DateTimeField(null=True, blank=True)
    redelivery_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ("-created_at",)
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status__in=["pending", "sending"]),
                name="delivery_due",
            ),
            models.Index(fields=["endpoint", "created_at"], name="delivery_endpoint_time"),
            models.Index(fields=["organization", "created_at"], name="delivery_org_time"),
            models.Index(fields=["created_at"], name="delivery_created"),
        ]

    def __str__(self) -> str:
        return f"{self.event.type} → {self.url} ({self.status})"


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: what was sent back, or what went wrong."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempts")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField(default=timezone.now)
    duration_ms = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    response_excerpt = models.TextField(blank=True)

    class Meta:
        ordering = ("delivery", "number")
        constraints = [models.UniqueConstraint(fields=["delivery", "number"], name="unique_attempt_number")]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error}"
