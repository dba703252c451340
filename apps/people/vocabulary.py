"""The one vocabulary of personal detail names used by people, activities and sessions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.core.exceptions import ValidationError


@dataclass(frozen=True)
class DetailSpec:
    name: str
    label: str
    kind: str  # text | email | phone | date | country | gender
    description: str


PERSONAL_DETAILS: tuple[DetailSpec, ...] = (
    DetailSpec("first_name", "First name", "text", "Given name(s)."),
    DetailSpec("last_name", "Last name", "text", "Family name(s)."),
    DetailSpec("email", "Email address", "email", "An email address the person reads."),
    DetailSpec("phone", "Phone number", "phone", "In international form, e.g. +34600000000."),
    DetailSpec("date_of_birth", "Date of birth", "date", "YYYY-MM-DD."),
    DetailSpec("place_of_birth", "Place of birth", "text", "City or place of birth."),
    DetailSpec("nationality", "Nationality", "country", "ISO 3166-1 alpha-3 country code, e.g. NLD."),
    DetailSpec("gender", "Gender", "gender", "F, M or X."),
    DetailSpec("address", "Address", "text", "Postal address on one line."),
    DetailSpec(
        "document_type",
        "Document type",
        "text",
        "passport, identityCard, drivingLicense, residencePermit, visa or other.",
    ),
    DetailSpec("document_number", "Document number", "text", "The identity document's number."),
    DetailSpec("document_expiry", "Document expiry date", "date", "YYYY-MM-DD."),
    DetailSpec("document_issuing_country", "Document issuing country", "country", "ISO 3166-1 alpha-3."),
    DetailSpec("personal_identification_number", "Personal identification number", "text", "A national id number."),
)
DETAILS_BY_NAME = {spec.name: spec for spec in PERSONAL_DETAILS}
DETAIL_NAMES = tuple(DETAILS_BY_NAME)
DETAIL_CHOICES = [(spec.name, spec.label) for spec in PERSONAL_DETAILS]

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
