"""Normalisation of providers' identity data into the seed's finalResult vocabulary.

Dates YYYY-MM-DD, countries ISO 3166-1 alpha-3, gender F/M/X, documentType from
DOCUMENT_TYPES. Connect results are not normalised (the seed says so) and skip this module.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import pycountry
from django.utils import timezone

# The finalResult fields, in the order the seed shows them.
FINAL_RESULT_FIELDS = (
    "firstName",
    "lastName",
    "dateOfExpiry",
    "gender",
    "nationality",
    "documentType",
    "documentNumber",
    "issuingCountry",
    "dateOfBirth",
    "similarityScore",
    "livenessDetected",
    "personalIdentificationNumber",
)

DOCUMENT_TYPES = ("passport", "identityCard", "drivingLicense", "residencePermit", "visa", "other")
_DOCUMENT_SYNONYMS = {
    "passport": "passport",
    "p": "passport",
    "pp": "passport",
    "identitycard": "identityCard",
    "idcard": "identityCard",
    "id": "identityCard",
    "i": "identityCard",
    "nationalidentitycard": "identityCard",
    "nationalidcard": "identityCard",
    "drivinglicense": "drivingLicense",
    "drivinglicence": "drivingLicense",
    "driverslicense": "drivingLicense",
    "driverslicence": "drivingLicense",
    "dl": "drivingLicense",
    "residencepermit": "residencePermit",
    "residencecard": "residencePermit",
    "visa": "visa",
    "v": "visa",
}
# Country codes in machine-readable zones that are not ISO 3166 alpha-3 codes.
_MRZ_COUNTRIES = {"D": "DEU", "GBD": "GBR", "GBN": "GBR", "GBO": "GBR", "GBS": "GBR", "GBP": "GBR", "UNK": "XXK"}
_GENDERS = {"f": "F", "female": "F", "w": "F", "woman": "F", "m": "M", "male": "M", "man": "M", "x": "X", "<": "X"}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%Y/%m/%d", "%Y%m%d")


def normalise_date(value: Any, *, future: bool = False) -> str | None:
    """Many date spellings → YYYY-MM-DD. Six-digit MRZ dates (YYMMDD) pick the century by `future`."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if re.fullmatch(r"\d{6}", text):
        year, month, day = int(text[:2]), int(text[2:4]), int(text[4:])
        this_year = timezone.now().year % 100
        century = 2000 if (future or year <= this_year) else 1900
        try:
            return date(century + year, month, day).isoformat()
        except ValueError:
            return None
    if "T" in text:
        text = text.split("T", 1)[0]
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date().isoformat()  # noqa: DTZ007 - a date, no time zone
        except ValueError:
            continue
    return None


def normalise_country(value: Any) -> str | None:
    """Alpha-2, alpha-3, numeric, MRZ code or English name → ISO 3166-1 alpha-3."""
    if value in (None, ""):
        return None
    text = str(value).strip().strip("<").upper()
    if text in _MRZ_COUNTRIES:
        return _MRZ_COUNTRIES[text]
    try:
        return pycountry.countries.lookup(text).alpha_3
    except LookupError:
        return None


def normalise_gender(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return _GENDERS.get(str(value).strip().lower())


def normalise_document_type(value: Any) -> str | None:
    if value in (None, ""):
        return None
    key = re.sub(r"[^a-z]", "", str(value).lower())
    return _DOCUMENT_SYNONYMS.get(key, "other")


def _text(value: Any) -> str | None:
    if value in (None, ""):
        return None
    return re.sub(r"\s+", " ", str(value).replace("<", " ")).strip() or None


_NORMALISERS = {
    "firstName": _text,
    "lastName": _text,
    "dateOfBirth": normalise_date,
    "dateOfExpiry": lambda v: normalise_date(v, future=True),
    "gender": normalise_gender,
    "nationality": normalise_country,
    "issuingCountry": normalise_country,
    "documentType": normalise_document_type,
    "documentNumber": _text,
    "personalIdentificationNumber": _text,
    "similarityScore": lambda v: text.lower() if (text := _text(v)) else None,
    "livenessDetected": lambda v: None if v in (None, "") else str(v).lower(),
}


def final_result(fields: Mapping[str, Any]) -> dict[str, str]:
    """Build a normalised finalResult from provider values keyed by finalResult field names.

    Unknown keys and empty or unreadable values are left out.
    """
    result = {}
    for name in FINAL_RESULT_FIELDS:
        if name in fields:
            value = _NORMALISERS[name](fields[name])
            if value is not None:
                result[name] = value
    return result


# finalResult field → personal detail name in apps/people, for verified details.
PERSONAL_DETAIL_NAMES = {
    "firstName": "first_name",
    "lastName": "last_name",
    "dateOfBirth": "date_of_birth",
    "gender": "gender",
    "nationality": "nationality",
    "documentType": "document_type",
    "documentNumber": "document_number",
    "dateOfExpiry": "document_expiry",
    "issuingCountry": "document_issuing_country",
    "personalIdentificationNumber": "personal_identification_number",
}
