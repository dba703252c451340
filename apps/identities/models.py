from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.audit.events import EventPayload, payload_of
from apps.audit.fsm import FSMModelMixin
from apps.core.crypto import lookup_hash, name_token_hashes, normalize_email
from apps.core.encrypted_fields import EncryptedEmailField, EncryptedTextField

CHANGE_PERMISSION = "identities.change_externalpersonalidentity"


class IdentityState(models.TextChoices):
    INVITED = "INVITED", _("Invited")
    ACTIVE = "ACTIVE", _("Active")
    DEACTIVATED = "DEACTIVATED", _("Deactivated")


class ExternalPersonalIdentity(FSMModelMixin, models.Model):
    """A person as an organization knows them (seed 002): invited, then activated by the person."""

    EVENT_TYPE = "identity.state_changed"
    STATE_FIELD = "state"
    # No personal values in events: integrators fetch the identity with their key.
    EVENT_PAYLOAD = EventPayload({"id": "id", "state": "state", "managed": "managed"})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey("organizations.Organization", on_delete=models.PROTECT, related_name="identities")
    email_address = EncryptedEmailField()
    email_hash = models.CharField(max_length=64, editable=False)
    first_name = EncryptedTextField()
    last_name = EncryptedTextField()
    managed = models.BooleanField(help_text="Activated and operated by the platform; cannot change after creation.")
    state = FSMField(default=IdentityState.INVITED, choices=IdentityState.choices, protected=True)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="identities"
    )
    invitation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    invitation_count = models.PositiveIntegerField(default=0, editable=False)
    activated_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "external personal identity"
        verbose_name_plural = "external personal identities"
        constraints = [
            models.UniqueConstraint(fields=["organization", "email_hash"], name="unique_identity_email_per_org")
        ]
        indexes = [
            models.Index(fields=["organization", "state", "created_at"], name="identity_org_state"),
            models.Index(fields=["organization", "created_at", "id"], name="identity_org_created"),
            models.Index(fields=["created_at"], name="identity_created"),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.state})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email_address = normalize_email(self.email_address)
        self.email_hash = lookup_hash(self.email_address)
        super().save(*args, **kwargs)
        update_fields = kwargs.get("update_fields")
        if update_fields is None or {"first_name", "last_name"} & set(update_fields):
            self.name_index_refresh()

    def name_index_refresh(self) -> None:
        """Rewrite the blind index of this identity's name (every write of the name does)."""
        digests = name_token_hashes(self.first_name, self.last_name)
        IdentityNameToken.objects.filter(identity=self).exclude(digest__in=digests).delete()
        IdentityNameToken.objects.bulk_create(
            [IdentityNameToken(identity=self, digest=digest) for digest in digests], ignore_conflicts=True
        )

    def event_data(self) -> dict[str, Any]:
        return payload_of(self)

    @transition(field=state, source=IdentityState.INVITED, target=IdentityState.ACTIVE, custom={"admin": False})
    def activate(self, person: Any) -> None:
        """The person opened the invitation and created or linked their account."""
        self.person = person
        self.activated_at = timezone.now()

    @transition(
        field=state,
        source=IdentityState.ACTIVE,
        target=IdentityState.DEACTIVATED,
        permission=CHANGE_PERMISSION,
        custom={"label": "Deactivate"},
    )
    def deactivate(self) -> None:
        pass

    @transition(
        field=state,
        source=IdentityState.DEACTIVATED,
        target=IdentityState.ACTIVE,
        permission=CHANGE_PERMISSION,
        custom={"label": "Reactivate"},
    )
    def reactivate(self) -> None:
        pass


class IdentityNameToken(models.Model):
    """The blind index of identity names: one keyed HMAC per normalised name word (see
    apps.core.crypto.name_tokens), so staff find an identity by name while names stay encrypted.
    A search matches identities that have every word searched."""

    identity = models.ForeignKey(ExternalPersonalIdentity, on_delete=models.CASCADE, related_name="name_tokens")
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest", "identity"], name="unique_identity_name_token")]

    def __str__(self) -> str:
        return f"name token {self.digest[:8]}"
