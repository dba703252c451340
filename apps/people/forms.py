from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm

from apps.people.models import User


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form; the `username` field holds the email address."""

    username = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )


class NewAccountPasswordForm(SetPasswordForm):
    """password1 / password2 for an account being created from an invitation."""

    def __init__(self, email: str, *args: Any, **kwargs: Any) -> None:
        # SetPasswordForm validates the password against an (unsaved) user's attributes.
        super().__init__(User(email=email), *args, **kwargs)
        self.fields["new_password1"].widget.attrs["autofocus"] = True

    def add_prefix(self, field_name: str) -> str:
        # Public field names are password1 / password2 (API.md).
        return {"new_password1": "password1", "new_password2": "password2"}.get(field_name, field_name)
