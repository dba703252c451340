from __future__ import annotations

from typing import Any

from django import forms
from django.core import validators
from django.db import models

from apps.people import crypto


class EncryptedTextField(models.TextField):
    """Text stored as a Fernet token. No lookups except isnull: use a hash column to search."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return crypto.encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return crypto.decrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name != "isnull":
            raise NotImplementedError(f"Encrypted fields cannot be filtered with '{lookup_name}'.")
        return super().get_lookup(lookup_name)


class EncryptedEmailField(EncryptedTextField):
    default_validators = [validators.validate_email]

    def formfield(self, **kwargs: Any) -> Any:
        return super().formfield(**{"form_class": forms.EmailField, "widget": forms.EmailInput, **kwargs})
