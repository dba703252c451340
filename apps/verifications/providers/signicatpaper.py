"""Signicat Paper: a photographed identity document, read through its MRZ and text fields.

Seed "Signicat Paper results": a failed verification or any error → rejected; a document
without MRZ (verification type FEATURES_ONLY) is never accepted → inconclusive; otherwise
accepted, with the finalResult taken from the MRZ.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.verifications.normalise import final_result
from apps.verifications.providers import Outcome

FEATURES_ONLY = "FEATURES_ONLY"


def evaluate(raw: dict[str, Any], *, process_type: str | None = None) -> Outcome:
    """Final status of a finished Signicat Paper process from its providerSpecific block."""
    verification = raw.get("verification")
    if not isinstance(verification, Mapping):
        verification = {}
    status = _flag(verification.get("status"))
    if status is False or raw.get("errors"):
        return Outcome(status="rejected", provider_specific=raw)
    mrz = raw.get("mrz")
    features_only = str(verification.get("type") or "").upper() == FEATURES_ONLY
    # Without a readable MRZ the data cannot be verified ("documents without MRZ will never
    # be accepted"); a verification that does not say it succeeded is not taken as success.
    if features_only or not isinstance(mrz, Mapping) or not mrz or status is not True:
        return Outcome(status="inconclusive", provider_specific=raw)
    # MRZ keys already carry finalResult names; personalNumber is left out, as in the
    # seed's accepted example.
    return Outcome(status="accepted", provider_specific=raw, final_result=final_result(mrz) or None)


def _flag(value: Any) -> bool | None:
    """The provider sends "true"/"false" strings; booleans are taken too. None when neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None
