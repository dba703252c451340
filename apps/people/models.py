from __future__ import annotations

import uuid
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone

from apps.people.crypto import lookup_hash, normalize_email
from apps.people.fields import EncryptedEmailField, EncryptedTextField
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


class User(AbstractBaseUser, PermissionsMixin):
    """A person or a staff member. Signs in with their email, which is stored encrypted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = EncryptedEmailField("email address")
    # Keyed HMAC of the normalised email: the only way to find someone by email.
    email_hash = models.CharField(max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin back office.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = "person"
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        self.email_hash = lookup_hash(self.email)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.email = normalize_email(self.email or "")


class DetailSource(models.TextChoices):
    SELF_DECLARED = "self_declared", "Self-declared"
    VERIFIED = "verified", "Verified"


class PersonalDetail(models.Model):
    """One personal value of a person, encrypted, with where it came from."""

    person = models.ForeignKey(User, on_delete=models.CASCADE, related_name="details")
    name = models.CharField(max_length=64, choices=DETAIL_CHOICES)
    value = EncryptedTextField()
    source = models.CharField(max_length=16, choices=DetailSource.choices, default=DetailSource.SELF_DECLARED)
    # Provenance of a verified value: the verification process and its provider.
    verified_by_process_id = models.UUIDField(null=True, blank=True)
    verified_by_provider = models.CharField(max_length=32, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "name"], name="unique_person_detail")]
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.get_name_display()} ({self.get_source_display()})"
