from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import validate_slug
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    IDENTITIES = "identities", _("Identities")
    ACTIVITIES = "activities", _("Activities")
    PROCESSES = "processes", _("Verification processes")
    IDENTIFICATIONS = "identifications", _("OTP identifications")
    SESSIONS = "sessions", _("Data-transfer sessions")
    WEBHOOKS = "webhooks", _("Webhooks")
    IDENTIFICATIONS_FORCE_DELETE = "identifications:force-delete", _("Force-delete identifications")


# A key made without explicit scopes gets every family, but never the destructive extra.
DEFAULT_SCOPES = [s.value for s in Scope if s is not Scope.IDENTIFICATIONS_FORCE_DELETE]


class Organization(models.Model):
    """A tenant: an integrator whose API keys, identities and objects belong together."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    slug = models.SlugField(
        max_length=64,
        unique=True,
        validators=[validate_slug],
        help_text=_("The org_id in API paths."),
        verbose_name=_("slug"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ("slug",)

    def __str__(self) -> str:
        return self.name or self.slug


class ApiKey(models.Model):
    """An organization's API key. Only a SHA-256 of the secret is kept; the prefix is visible.

    SHA-256 rather than a slow password hash: the secret is 256 random bits, so it cannot be
    guessed, and authentication runs on every request.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys", verbose_name=_("organization")
    )
    name = models.CharField(max_length=200, blank=True, verbose_name=_("name"))
    prefix = models.CharField(max_length=16, unique=True, editable=False, verbose_name=_("prefix"))
    hashed_secret = models.CharField(max_length=64, editable=False, verbose_name=_("hashed secret"))
    scopes = models.JSONField(default=list, verbose_name=_("scopes"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
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

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("organization")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [models.UniqueConstraint(fields=["organization", "user"], name="unique_membership")]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization.slug}"
