"""Onfido: `documentVerification` always, `facialSimilarity` for documentSelfie / documentVideo.

Rules (seed 003 "Onfido results"; API.md "Provider mapping" spells them out, in this order):

- rejected — "the verification cannot be processed further", for the seed's reasons: subResult
  (or result) rejected; documentVerification's imageIntegrity ("poor image quality") or
  ageValidation ("below the minimum accepted age") present and not clear; documentType
  "unknown" ("unknown document type"). Whatever the face says.
- inconclusive — "the ID is valid but suspicious": subResult suspected / caution / consider,
  result consider (or anything but clear), or any other documentVerification breakdown
  (the suspected-fraud ones: dataValidation, visualAuthenticity, compromisedDocument,
  dataConsistency, policeRecord, and dataComparison) present and not clear.
- otherwise the ID is valid: document → accepted; documentSelfie / documentVideo → accepted only
  when facialSimilarity's result and every breakdown of it (imageIntegrity, faceComparison,
  visualAuthenticity) are clear, else inconclusive ("at least one of the facialSimilarity
  verifications did not succeed"), a missing facialSimilarity included.

Choices where the seed is silent:

- No documentVerification, or one with neither `result` nor `subResult` → rejected. The seed
  says Onfido always performs one, so a finished process without it has no verdict on the ID;
  it cannot be accepted, and inconclusive means "valid but suspicious", which was not shown.
- A breakdown that is absent counts as not reported, not as failed (the seed's inconclusive
  example reports none).
- No process type (the seed's accepted, inconclusive and rejected examples carry none) → the
  face counts when `facialSimilarity` is present, as for documentSelfie, and not otherwise.
- An unknown process type raises ValueError: processes are created with a known one, and
  guessing could skip the face check.
- finalResult: the identity fields of documentVerification, plus facialSimilarity's
  `similarityScore` when the face counted (the seed's accepted example shows it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.verifications.normalise import final_result
from apps.verifications.providers import PROCESS_TYPES, Outcome

_FACE_PROCESS_TYPES = ("documentSelfie", "documentVideo")
# documentVerification breakdowns whose failure means the ID cannot be processed (rejected) ...
_REJECTING_BREAKDOWNS = ("imageIntegrity", "ageValidation")
# ... and those whose failure means it is suspected to be fraudulent (inconclusive).
_SUSPICIOUS_BREAKDOWNS = (
    "visualAuthenticity",
    "dataValidation",
    "dataConsistency",
    "dataComparison",
    "compromisedDocument",
    "policeRecord",
)
_FACE_BREAKDOWNS = ("imageIntegrity", "faceComparison", "visualAuthenticity")
_IDENTITY_FIELDS = (
    "firstName",
    "lastName",
    "dateOfExpiry",
    "gender",
    "nationality",
    "documentType",
    "documentNumber",
    "issuingCountry",
    "dateOfBirth",
    "personalIdentificationNumber",
)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _word(value: Any) -> str | None:
    return str(value).strip().lower() if value not in (None, "") else None


def _all_clear(block: Mapping[str, Any], breakdowns: tuple[str, ...]) -> bool:
    return all(_word(block[name]) == "clear" for name in breakdowns if name in block)


def _document_verdict(document: Mapping[str, Any]) -> str:
    """accepted (valid), rejected or inconclusive for the documentVerification block."""
    result, sub_result = _word(document.get("result")), _word(document.get("subResult"))
    if result is None and sub_result is None:
        return "rejected"
    if "rejected" in (result, sub_result):
        return "rejected"
    if not _all_clear(document, _REJECTING_BREAKDOWNS) or _word(document.get("documentType")) == "unknown":
        return "rejected"
    if result == "clear" and sub_result in (None, "clear") and _all_clear(document, _SUSPICIOUS_BREAKDOWNS):
        return "accepted"
    return "inconclusive"


def _face_counts(raw: Mapping[str, Any], process_type: str | None) -> bool:
    if process_type is None:
        return "facialSimilarity" in raw
    if process_type not in (PROCESS_TYPES["onfido"] or ()):
        raise ValueError(f"unknown Onfido process type {process_type!r}")
    return process_type in _FACE_PROCESS_TYPES


def evaluate(raw: dict[str, Any], *, process_type: str | None = None) -> Outcome:
    """The final status of a finished Onfido process, and its finalResult when accepted."""
    document = _mapping(raw.get("documentVerification"))
    face = _mapping(raw.get("facialSimilarity"))
    face_counts = _face_counts(raw, process_type)

    status = _document_verdict(document)
    if status == "accepted" and face_counts:
        face_clear = _word(face.get("result")) == "clear" and _all_clear(face, _FACE_BREAKDOWNS)
        if not face_clear:
            status = "inconclusive"
    if status != "accepted":
        return Outcome(status=status, provider_specific=raw)

    fields = {name: document[name] for name in _IDENTITY_FIELDS if name in document}
    if face_counts:
        fields["similarityScore"] = face.get("similarityScore")
    return Outcome(status="accepted", provider_specific=raw, final_result=final_result(fields))
