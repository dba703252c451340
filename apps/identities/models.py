from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
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

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.PROTECT,
        related_name="identities",
        verbose_name=_("organization"),
    )
    email_address = EncryptedEmailField(verbose_name=_("email address"))
    email_hash = models.CharField(max_length=64, editable=False, verbose_name=_("email hash"))
    first_name = EncryptedTextField(verbose_name=_("first name"))
    last_name = EncryptedTextField(verbose_name=_("last name"))
    managed = models.BooleanField(
        help_text=_("Activated and operated by the platform; cannot change after creation."), verbose_name=_("managed")
    )
    state = FSMField(
        default=IdentityState.INVITED, choices=IdentityState.choices, protected=True, verbose_name=_("state")
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="identities",
        verbose_name=_("person"),
    )
    invitation_sent_at = models.DateTimeField(
        null=True, blank=True, editable=False, verbose_name=_("invitation sent at")
    )
    invitation_count = models.PositiveIntegerField(default=0, editable=False, verbose_name=_("invitation count"))
    activated_at = models.DateTimeField(null=True, blank=True, editable=False, verbose_name=_("activated at"))
    created_at = models.DateTimeField(default=timezone.now, editable=False, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("external personal identity")
        verbose_name_plural = _("external personal identities")
        constraints = [
            models.UniqueConstraint(fields=["organization", "email_hash"], name="unique_identity_email_per_org")
        ]
        indexes = [
            models.Index(fields=["organization", "state", "created_at"], name="identity_org_state"),
            models.Index(fields=["organization", "created_at", "id"], name="identity_org_created"),
            models.Index(fields=["created_at"], name="identity_created"),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s (%(status)s)") % {
            "name": f"{self.first_name} {self.last_name}",
            "status": self.get_state_display(),
        }

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
        custom={"label": _("Deactivate")},
    )
    def deactivate(self) -> None:
        pass

    @transition(
        field=state,
        source=IdentityState.DEACTIVATED,
        target=IdentityState.ACTIVE,
        permission=CHANGE_PERMISSION,
        custom={"label": _("Reactivate")},
    )
    def reactivate(self) -> None:
        pass


class IdentityNameToken(models.Model):
    """The blind index of identity names: one keyed HMAC per normalised name word (see
    apps.core.crypto.name_tokens), so staff find an identity by name while names stay encrypted.
    A search matches identities that have every word searched."""

    identity = models.ForeignKey(
        ExternalPersonalIdentity, on_delete=models.CASCADE, related_name="name_tokens", verbose_name=_("identity")
    )
    digest = models.CharField(max_length=64, verbose_name=_("digest"))

    class Meta:
        verbose_name = _("identity name token")
        verbose_name_plural = _("identity name tokens")
        constraints = [models.UniqueConstraint(fields=["digest", "identity"], name="unique_identity_name_token")]

    def __str__(self) -> str:
        return gettext("name token %(digest)s") % {"digest": self.digest[:8]}
