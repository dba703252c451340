from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.core.encrypted_fields import EncryptedJSONField


class IdempotencyRecord(models.Model):
    """The first response to a mutating POST sent with an Idempotency-Key, for replays."""

    api_key = models.ForeignKey(
        "organizations.ApiKey", on_delete=models.CASCADE, related_name="+", verbose_name=_("API key")
    )
    key = models.CharField(max_length=255, verbose_name=_("key"))
    fingerprint = models.CharField(
        max_length=64, help_text=_("SHA-256 of method, path and body."), verbose_name=_("fingerprint")
    )
    status_code = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("Empty while in flight."), verbose_name=_("status code")
    )
    # Encrypted: a response may carry personal values (an identity's name and email, ...).
    response_body = EncryptedJSONField(null=True, blank=True, verbose_name=_("response body"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="unique_idempotency_key")]

    def __str__(self) -> str:
        answer = str(self.status_code) if self.status_code else gettext("in flight")
        return gettext("Idempotency key %(key)s… (%(answer)s)") % {"key": self.key[:8], "answer": answer}
