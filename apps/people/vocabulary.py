"""The one vocabulary of personal detail names used by people, activities and sessions.

Labels and descriptions are English strings marked for the catalogue (gettext_noop): the API
speaks English, pages translate them through DetailSpec.display_label / display_description."""

from __future__ import annotations

import gettext as gettext_module
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import TYPE_CHECKING

import pycountry
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import formats
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext_noop as _

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise


@dataclass(frozen=True)
class DetailSpec:
    name: str
    label: str
    kind: str  # text | email | phone | date | country | gender | document
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
    DetailSpec("nationality", _("Nationality"), "country", _("The country of your nationality.")),
    DetailSpec("gender", _("Gender"), "gender", _("Female, male or unspecified.")),
    DetailSpec("address", _("Address"), "text", _("Postal address on one line.")),
    DetailSpec(
        "document_type",
        _("Document type"),
        "document",
        _("The kind of identity document."),
    ),
    DetailSpec("document_number", _("Document number"), "text", _("The identity document's number.")),
    DetailSpec("document_expiry", _("Document expiry date"), "date", _("YYYY-MM-DD.")),
    DetailSpec(
        "document_issuing_country", _("Document issuing country"), "country", _("The country that issued the document.")
    ),
    DetailSpec(
        "personal_identification_number", _("Personal identification number"), "text", _("A national id number.")
    ),
)
DETAILS_BY_NAME = {spec.name: spec for spec in PERSONAL_DETAILS}
# Every kind the vocabulary uses, in first-use order: the API schema's enum comes from here.
DETAIL_KINDS: tuple[str, ...] = tuple(dict.fromkeys(spec.kind for spec in PERSONAL_DETAILS))
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


class Gender(models.TextChoices):
    FEMALE = "F", gettext_lazy("Female")
    MALE = "M", gettext_lazy("Male")
    UNSPECIFIED = "X", gettext_lazy("Unspecified")


class DocumentType(models.TextChoices):
    """The document types verifications normalise to (apps.verifications.normalise)."""

    PASSPORT = "passport", gettext_lazy("Passport")
    IDENTITY_CARD = "identityCard", gettext_lazy("Identity card")
    DRIVING_LICENSE = "drivingLicense", gettext_lazy("Driving licence")
    RESIDENCE_PERMIT = "residencePermit", gettext_lazy("Residence permit")
    VISA = "visa", gettext_lazy("Visa")
    OTHER = "other", gettext_lazy("Other document")


@cache
def _country_translation(language: str) -> gettext_module.NullTranslations:
    return gettext_module.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True)


def country_name(code: str) -> str:
    """The country's common name in the active language (pycountry's ISO 3166 catalogue); the
    code itself if it names no country."""
    country = pycountry.countries.get(alpha_3=code.upper()) if len(code) == 3 else None
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    translation = _country_translation((get_language() or "en").split("-")[0])
    translated = translation.gettext(name)
    # Some common names have no translation while the official short name has one.
    return translated if translated != name else translation.gettext(country.name)


def _sort_key(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().casefold()


def country_choices() -> list[tuple[str, str]]:
    """Every ISO 3166-1 country as (alpha-3, name in the active language), by name."""
    return sorted(((c.alpha_3, country_name(c.alpha_3)) for c in pycountry.countries), key=lambda c: _sort_key(c[1]))


def detail_display_value(name: str, value: str) -> str:
    """A detail's value as a person reads it: country names, document types, genders and dates
    in the active language; any other value as it is."""
    spec = DETAILS_BY_NAME.get(name)
    if spec is None or not value:
        return value
    if spec.kind == "country":
        return country_name(value)
    if spec.kind == "gender" and value in Gender.values:
        return str(Gender(value).label)
    if spec.kind == "document" and value in DocumentType.values:
        return str(DocumentType(value).label)
    if spec.kind == "date":
        try:
            return formats.date_format(date.fromisoformat(value))
        except ValueError:
            return value
    return value


def detail_display_label(name: str) -> str:
    """The label pages show for a detail name, in the active language."""
    spec = DETAILS_BY_NAME.get(name)
    return str(spec.display_label) if spec else name
