from __future__ import annotations

import math
from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.time_zones import time_zone_names
from apps.people.backends import login_lockout_remaining
from apps.people.models import DetailSource, PersonalDetail, User
from apps.people.vocabulary import (
    DETAILS_BY_NAME,
    PERSONAL_DETAILS,
    DetailSpec,
    DocumentType,
    Gender,
    clean_detail,
    country_choices,
)


class EmailAuthenticationForm(AuthenticationForm):
    """Django's login form; the `username` field holds the email address."""

    username = forms.EmailField(
        label=_("Email"), widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"})
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "locked_out": _(
            "Too many failed sign-in attempts for this email address or from this network. "
            "Wait %(minutes)s and try again."
        ),
    }

    def clean(self) -> dict[str, Any]:
        # Checked before the password, and again after a failure that started the cool-off.
        self._refuse_while_locked_out()
        try:
            return super().clean()
        except ValidationError:
            self._refuse_while_locked_out()
            raise

    def _refuse_while_locked_out(self) -> None:
        remaining = login_lockout_remaining(self.request, self.cleaned_data.get("username"))
        if remaining:
            minutes = math.ceil(remaining / 60)
            raise ValidationError(
                self.error_messages["locked_out"],
                code="locked_out",
                params={"minutes": f"{minutes} minute{'s' if minutes != 1 else ''}"},
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


class PortalPasswordResetForm(PasswordResetForm):
    """Django's reset form; people are found by the keyed hash of their email (it is stored
    encrypted), and only active accounts with a password get a link."""

    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def get_users(self, email: str) -> Any:
        return (
            user for user in User.objects.filter_by_email(email).filter(is_active=True) if user.has_usable_password()
        )


_KIND_ERRORS = {
    "date": _("Enter a date as YYYY-MM-DD, for example 1990-04-23."),
    "gender": _("Choose one of the options."),
    "country": _("Choose a country from the list."),
    "document": _("Enter at most 500 characters."),
    "phone": _("Enter the number in international form, for example +34600000000."),
    "email": _("Enter a valid email address."),
    "text": _("Enter at most 500 characters."),
}
_NOT_GIVEN = ("", _("Not given"))


def _with_current(choices: list[tuple[str, Any]], current: str) -> list[tuple[str, Any]]:
    """The choices, plus the current value where it is none of them (kept as it is, not lost)."""
    if current and current not in {value for value, _label in choices}:
        return [*choices, (current, current)]
    return choices


def _widget(spec: DetailSpec, current: str) -> forms.Widget:
    if spec.kind == "date":
        return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    if spec.kind == "email":
        return forms.EmailInput(attrs={"autocomplete": "email"})
    if spec.kind == "phone":
        return forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"})
    if spec.kind == "gender":
        return forms.Select(choices=_with_current([_NOT_GIVEN, *Gender.choices], current))
    if spec.kind == "document":
        return forms.Select(choices=_with_current([_NOT_GIVEN, *DocumentType.choices], current))
    if spec.kind == "country":
        return forms.Select(choices=_with_current([_NOT_GIVEN, *country_choices()], current))
    autocomplete = {"first_name": "given-name", "last_name": "family-name", "address": "street-address"}
    return forms.TextInput(attrs={"autocomplete": autocomplete.get(spec.name, "off")})


class PersonalDetailsForm(forms.Form):
    """The person's own details: self-declared ones are editable (empty removes one), verified ones
    are shown disabled, so a posted value for them is ignored; apps.people.services keeps provenance."""

    def __init__(self, *args: Any, details: list[PersonalDetail], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = {d.name: d for d in details}
        self.verified = {name: d for name, d in current.items() if d.source == DetailSource.VERIFIED}
        for spec in PERSONAL_DETAILS:
            detail = current.get(spec.name)
            verified = spec.name in self.verified
            self.fields[spec.name] = forms.CharField(
                label=spec.display_label,
                required=False,
                max_length=None,
                strip=True,
                initial=detail.value if detail else "",
                disabled=verified,
                help_text=_("Verified: only a new verification changes it.") if verified else spec.display_description,
                widget=_widget(spec, detail.value if detail else ""),
            )

    def add_time_zone(self, current: str) -> None:
        """The zone the pages show times in, after the details."""
        self.fields["time_zone"] = forms.ChoiceField(
            label=_("Time zone"),
            required=False,
            initial=current,
            choices=[("", _("As my browser says")), *((zone, zone.replace("_", " ")) for zone in time_zone_names())],
            help_text=_("Dates and times on your pages are shown in this time zone."),
        )

    @property
    def editable_names(self) -> list[str]:
        return [name for name in self.fields if name in DETAILS_BY_NAME and name not in self.verified]

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        for name in self.editable_names:
            value = cleaned.get(name) or ""
            if not value:
                continue
            try:
                cleaned[name] = clean_detail(name, value)
            except ValidationError:
                self.add_error(name, _KIND_ERRORS[DETAILS_BY_NAME[name].kind])
        return cleaned

    def changes(self) -> dict[str, str]:
        """What the person wants, for the editable details only."""
        return {name: self.cleaned_data.get(name) or "" for name in self.editable_names}


class AccountDeleteForm(forms.Form):
    """Deleting the account asks for the password again."""

    password = forms.CharField(
        label=_("Your password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": _("Enter your password to confirm.")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("That is not your password."), code="wrong_password")
        return password
