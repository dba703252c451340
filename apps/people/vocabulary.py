"""The one vocabulary of personal detail names used by people, activities and sessions.

Labels and descriptions are English strings marked for the catalogue (gettext_noop): the API
speaks English, pages translate them through DetailSpec.display_label / display_description."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy
from django.utils.translation import gettext_noop as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@dataclass(frozen=True)
class DetailSpec:
    name: str
    label: str
    kind: str  # text | email | phone | date | country | gender
    description: str

    # `label` and `description` stay English (API messages use them); pages show these.
    @property
    def display_label(self) -> StrPromise:
        return gettext_lazy(self.label)

    @property
    def display_description(self) -> StrPromise:
        return gettext_lazy(self.description)


PERSONAL_DETAILS: tuple[DetailSpec, ...] = (
    DetailSpec("first_name", _("First name"), "text", _("Given name(s).")),
    DetailSpec("last_name", _("Last name"), "text", _("Family name(s).")),
    DetailSpec("email", _("Email address"), "email", _("An email address the person reads.")),
    DetailSpec("phone", _("Phone number"), "phone", _("In international form, e.g. +34600000000.")),
    DetailSpec("date_of_birth", _("Date of birth"), "date", _("YYYY-MM-DD.")),
    DetailSpec("place_of_birth", _("Place of birth"), "text", _("City or place of birth.")),
    DetailSpec("nationality", _("Nationality"), "country", _("ISO 3166-1 alpha-3 country code, e.g. NLD.")),
    DetailSpec("gender", _("Gender"), "gender", _("F, M or X.")),
    DetailSpec("address", _("Address"), "text", _("Postal address on one line.")),
    DetailSpec(
        "document_type",
        _("Document type"),
        "text",
        _("passport, identityCard, drivingLicense, residencePermit, visa or other."),
    ),
    DetailSpec("document_number", _("Document number"), "text", _("The identity document's number.")),
    DetailSpec("document_expiry", _("Document expiry date"), "date", _("YYYY-MM-DD.")),
    DetailSpec("document_issuing_country", _("Document issuing country"), "country", _("ISO 3166-1 alpha-3.")),
    DetailSpec(
        "personal_identification_number", _("Personal identification number"), "text", _("A national id number.")
    ),
)
DETAILS_BY_NAME = {spec.name: spec for spec in PERSONAL_DETAILS}
DETAIL_NAMES = tuple(DETAILS_BY_NAME)
DETAIL_CHOICES = [(spec.name, gettext_lazy(spec.label)) for spec in PERSONAL_DETAILS]

_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_COUNTRY = re.compile(r"^[A-Z]{3}$")


def clean_detail(name: str, value: str) -> str:
    """Validate and normalise one value for its vocabulary entry; ValidationError if wrong."""
    spec = DETAILS_BY_NAME.get(name)
    if spec is None:
        raise ValidationError(f"Unknown personal detail '{name}'.")
    value = str(value).strip()
    if not value:
        raise ValidationError(f"{spec.label} must not be empty.")
    if len(value) > 500:
        raise ValidationError(f"{spec.label} is too long.")
    if spec.kind == "date":
        try:
            value = date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValidationError(f"{spec.label} must be a date as YYYY-MM-DD.") from None
    elif spec.kind == "gender":
        value = value.upper()
        if value not in ("F", "M", "X"):
            raise ValidationError(f"{spec.label} must be F, M or X.")
    elif spec.kind == "country":
        value = value.upper()
        if not _COUNTRY.match(value):
            raise ValidationError(f"{spec.label} must be an ISO 3166-1 alpha-3 code such as NLD.")
    elif spec.kind == "phone":
        value = re.sub(r"[\s().-]", "", value)
        if not _PHONE.match(value):
            raise ValidationError(f"{spec.label} must be in international form, e.g. +34600000000.")
    elif spec.kind == "email":
        from django.core.validators import validate_email

        validate_email(value)
    return value


def detail_display_label(name: str) -> str:
    """The label pages show for a detail name, in the active language."""
    spec = DETAILS_BY_NAME.get(name)
    return str(spec.display_label) if spec else name
