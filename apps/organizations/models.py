from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import validate_slug
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    IDENTITIES = "identities", "Identities"
    ACTIVITIES = "activities", "Activities"
    PROCESSES = "processes", "Verification processes"
    IDENTIFICATIONS = "identifications", "OTP identifications"
    SESSIONS = "sessions", "Data-transfer sessions"
    WEBHOOKS = "webhooks", "Webhooks"
    IDENTIFICATIONS_FORCE_DELETE = "identifications:force-delete", "Force-delete identifications"


# A key made without explicit scopes gets every family, but never the destructive extra.
DEFAULT_SCOPES = [s.value for s in Scope if s is not Scope.IDENTIFICATIONS_FORCE_DELETE]


class Organization(models.Model):
    """A tenant: an integrator whose API keys, identities and objects belong together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    slug = models.SlugField(
        max_length=64, unique=True, validators=[validate_slug], help_text="The org_id in API paths."
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ("slug",)

    def __str__(self) -> str:
        return self.name or self.slug


class ApiKey(models.Model):
    """An organization's API key. Only a SHA-256 of the secret is kept; the prefix is visible.

    SHA-256 rather than a slow password hash: the secret is 256 random bits, so it cannot be
    guessed, and authentication runs on every request.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hashed_secret = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.organization.slug})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes


class Membership(models.Model):
    """Staff membership: which organizations a back-office user works for."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization.slug}"
