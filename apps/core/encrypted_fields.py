from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.core import validators
from django.db import models

from apps.core import crypto

if TYPE_CHECKING:
    # Django's fields are generic in the stubs only (set type, get type).
    _TextField = models.TextField[Any, Any]
else:
    _TextField = models.TextField


class EncryptedTextField(_TextField):
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


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (dict, list, ...) stored as one Fernet token."""

    # What django-stubs' plugin reads as the attribute's types: any JSON value, not text.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        # Not through TextField.get_prep_value: its to_python would parse the JSON back.
        return crypto.encrypt(json.dumps(value, separators=(",", ":"), ensure_ascii=False))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        text = super().from_db_value(value, expression, connection)
        return None if text in (None, "") else json.loads(text)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj))
