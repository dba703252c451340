from __future__ import annotations

from django.db import models
from django.utils import timezone

from apps.core.encrypted_fields import EncryptedJSONField


class IdempotencyRecord(models.Model):
    """The first response to a mutating POST sent with an Idempotency-Key, for replays."""

    api_key = models.ForeignKey("organizations.ApiKey", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Empty while in flight.")
    # Encrypted: a response may carry personal values (an identity's name and email, ...).
    response_body = EncryptedJSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.key} → {self.status_code or 'in flight'}"
