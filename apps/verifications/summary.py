"""A process's result in words for staff: status, the checks that did not pass, and the fields
read from the document, instead of the provider's JSON."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pycountry
from django.utils.translation import gettext_lazy as _

from apps.verifications.models import VerificationProcess
from apps.verifications.normalise import FINAL_RESULT_FIELDS

FIELD_LABELS = {
    "firstName": _("First name"),
    "lastName": _("Last name"),
    "dateOfExpiry": _("Document expires on"),
    "gender": _("Gender"),
    "nationality": _("Nationality"),
    "documentType": _("Document type"),
    "documentNumber": _("Document number"),
    "issuingCountry": _("Issuing country"),
    "dateOfBirth": _("Date of birth"),
    "similarityScore": _("Face similarity"),
    "livenessDetected": _("Liveness detected"),
    "personalIdentificationNumber": _("Personal identification number"),
}
DOCUMENT_TYPE_LABELS = {
    "passport": _("Passport"),
    "identityCard": _("Identity card"),
    "drivingLicense": _("Driving licence"),
    "residencePermit": _("Residence permit"),
    "visa": _("Visa"),
    "other": _("Other document"),
}
GENDER_LABELS = {"F": _("Female"), "M": _("Male"), "X": _("Unspecified")}
COUNTRY_FIELDS = ("nationality", "issuingCountry")
# Outcome keys of a provider's checks, and the values that mean the check passed.
OUTCOME_KEYS = ("result", "subResult", "status", "verified")
PASSED = {"clear", "passed", "pass", "accepted", "approved", "ok", "true", "valid", "success"}


def _words(key: str) -> str:
    """camelCase → "Camel case"."""
    spaced = "".join(f" {c.lower()}" if c.isupper() else c for c in key).strip()
    return spaced[:1].upper() + spaced[1:]


def field_value(name: str, value: Any) -> str:
    """A field's value as staff read it (document types, genders and countries in words)."""
    if isinstance(value, bool):
        return str(_("Yes") if value else _("No"))
    text = "" if value is None else str(value)
    if name == "documentType":
        return str(DOCUMENT_TYPE_LABELS.get(text, text))
    if name == "gender":
        return str(GENDER_LABELS.get(text, text))
    if name in COUNTRY_FIELDS and len(text) == 3:
        country = pycountry.countries.get(alpha_3=text.upper())
        return country.name if country else text
    return text


def _walk(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], str, Any]]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if isinstance(item, Mapping | list):
                yield from _walk(item, (*path, str(key)))
            else:
                yield path, str(key), item
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, path)


def failed_checks(process: VerificationProcess) -> list[str]:
    """The provider's checks that did not pass, as "Facial similarity: consider"."""
    reasons = []
    for path, key, value in _walk(process.provider_specific or {}):
        if key in OUTCOME_KEYS and str(value).lower() not in PASSED:
            where = " > ".join(_words(part) for part in path) or _words(key)
            reasons.append(f"{where}: {value}" if key == "result" else f"{where} ({_words(key).lower()}): {value}")
    if isinstance(process.fail_reason, Mapping):
        reasons.extend(f"{_words(str(k))}: {v}" for k, v in process.fail_reason.items())
    elif process.fail_reason:
        reasons.append(str(process.fail_reason))
    return reasons


def extracted_fields(process: VerificationProcess) -> list[tuple[str, str]]:
    """The identity fields the provider read: the final result when accepted, else what the
    provider's data holds (an inconclusive result has no final result, seed 003)."""
    found: dict[str, Any] = {}
    for source in (process.final_result or {}, process.provider_specific or {}):
        for _path, key, value in _walk(source):
            if key in FINAL_RESULT_FIELDS and key not in found and value not in (None, ""):
                found[key] = value
    return [(str(FIELD_LABELS[name]), field_value(name, found[name])) for name in FINAL_RESULT_FIELDS if name in found]
