from __future__ import annotations

import uuid
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from apps.audit.events import EventPayload, payload_of
from apps.audit.fsm import FSMModelMixin
from apps.core.crypto import lookup_hash, normalize_email
from apps.core.encrypted_fields import EncryptedEmailField, EncryptedTextField
from apps.people.vocabulary import DETAIL_CHOICES


class UserManager(BaseUserManager["User"]):
    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email_hash=lookup_hash(normalize_email(username or "")))

    def filter_by_email(self, email: str) -> models.QuerySet[User]:
        return self.filter(email_hash=lookup_hash(normalize_email(email)))

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=email, **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


# django-oauth-toolkit ships no types: the plugin cannot see the manager its AbstractApplication.user adds.
class User(AbstractBaseUser, PermissionsMixin):  # type: ignore[django-manager-missing]
    """A person or a staff member. Signs in with their email, which is stored encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    email = EncryptedEmailField(_("email address"))
    # Keyed HMAC of the normalised email: the only way to find someone by email.
    email_hash = models.CharField(max_length=64, unique=True, editable=False, verbose_name=_("email hash"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    is_staff = models.BooleanField(
        default=False, help_text=_("May sign in to the admin back office."), verbose_name=_("is staff")
    )
    date_joined = models.DateTimeField(default=timezone.now, verbose_name=_("date joined"))
    # The IANA zone pages show times in; empty: the browser's, else TIME_ZONE (apps.core.time_zones).
    time_zone = models.CharField(max_length=64, blank=True, verbose_name=_("time zone"))
    # The language emails to the person are written in: the last one they chose on the portal's
    # language switcher; empty: LANGUAGE_CODE.
    language = models.CharField(max_length=8, blank=True, verbose_name=_("language"))

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")
        # The back office lists people newest first.
        indexes = [models.Index(fields=["date_joined"], name="person_date_joined")]

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        self.email_hash = lookup_hash(self.email)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.email = normalize_email(self.email or "")


class DetailSource(models.TextChoices):
    # Not the person page's "Self-declared" ("declared by you"): staff read this one.
    SELF_DECLARED = "self_declared", pgettext_lazy("detail source", "Self-declared")
    VERIFIED = "verified", _("Verified")


class PersonalDetail(models.Model):
    """One personal value of a person, encrypted, with where it came from."""

    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="details", verbose_name=_("person"))
    name = models.CharField(max_length=64, choices=DETAIL_CHOICES, verbose_name=_("name"))
    value = EncryptedTextField(verbose_name=_("value"))
    source = models.CharField(
        max_length=16, choices=DetailSource.choices, default=DetailSource.SELF_DECLARED, verbose_name=_("source")
    )
    # Provenance of a verified value: the verification process and its provider.
    verified_by_process_id = models.UUIDField(null=True, blank=True, verbose_name=_("verified by process ID"))
    verified_by_provider = models.CharField(max_length=32, blank=True, verbose_name=_("verified by provider"))
    updated_at = models.DateTimeField(default=timezone.now, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("personal detail")
        verbose_name_plural = _("personal details")
        constraints = [models.UniqueConstraint(fields=["person", "name"], name="unique_person_detail")]
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.get_name_display()} ({self.get_source_display()})"


class ProposalStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the person")
    CONFIRMED = "confirmed", _("Confirmed")
    DISMISSED = "dismissed", _("Dismissed")
    # A newer verification proposed another value, or the process's data was redacted.
    WITHDRAWN = "withdrawn", _("Withdrawn")


class DetailProposal(FSMModelMixin, models.Model):
    """A verified value that is not yet the person's: it replaces (or adds) their detail only when
    they confirm it on /me/ (API.md "Pages"). Only the person sees it; staff never do."""

    EVENT_TYPE = "detail_proposal.status_changed"
    STATE_FIELD = "status"
    # Ids, the detail's name and the status: never the value.
    EVENT_PAYLOAD = EventPayload({"id": "id", "name": "name", "processId": "process_id", "status": "status"})
    # Logged in the audit trail, but no organization's event: it is the person's own business.
    PUBLISH_EVENTS = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    person = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="detail_proposals", verbose_name=_("person")
    )
    name = models.CharField(max_length=64, choices=DETAIL_CHOICES, verbose_name=_("name"))
    # The proposed value, encrypted; emptied once the person decided (confirmed, it lives on as
    # their detail; dismissed or withdrawn, nobody needs it).
    value = EncryptedTextField(blank=True, verbose_name=_("value"))
    # Where it comes from: the verification process and its provider.
    process_id = models.UUIDField(verbose_name=_("process ID"))
    provider = models.CharField(max_length=64, verbose_name=_("provider"))
    status = FSMField(
        default=ProposalStatus.PENDING, choices=ProposalStatus.choices, protected=True, verbose_name=_("status")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))

    class Meta:
        verbose_name = _("detail proposal")
        verbose_name_plural = _("detail proposals")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "name"],
                condition=Q(status="pending"),
                name="one_pending_proposal_per_detail",
            )
        ]
        indexes = [models.Index(fields=["process_id"], name="proposal_process")]

    def __str__(self) -> str:
        return gettext("%(name)s (%(status)s)") % {"name": self.get_name_display(), "status": self.get_status_display()}

    def event_data(self) -> dict[str, Any]:
        return payload_of(self)

    def _decided(self) -> None:
        self.value = ""
        self.decided_at = timezone.now()

    @transition(field=status, source=ProposalStatus.PENDING, target=ProposalStatus.CONFIRMED)
    def confirm(self) -> None:
        """The person took the verified value as their detail."""
        self._decided()

    @transition(field=status, source=ProposalStatus.PENDING, target=ProposalStatus.DISMISSED)
    def dismiss(self) -> None:
        """The person kept their own value."""
        self._decided()

    @transition(field=status, source=ProposalStatus.PENDING, target=ProposalStatus.WITHDRAWN)
    def withdraw(self) -> None:
        self._decided()
