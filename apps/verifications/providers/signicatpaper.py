"""Signicat Paper: a photographed identity document, read through its MRZ and text fields.

Seed "Signicat Paper results" (API.md "Provider mapping"):

- rejected: "an error was found or at least one verification failed" — verification status
  "false", a non-empty `errors`, or any check INVALID (or NO_MATCH / MISMATCH) in mrzChecksum,
  mrzVerification, mrzFeatureMatching or featuresVerification. This comes first: a failed MRZ
  check under status "true" is still a failed verification, and a document without MRZ whose
  text fields are not valid is rejected ("rejected if they are not valid").
- inconclusive: a document without MRZ (verification type FEATURES_ONLY) — "never accepted".
- accepted otherwise, with the finalResult taken from the MRZ.

Choices where the seed is silent: no MRZ data, or a verification status that is not "true"
(missing, unreadable), → inconclusive: nothing shows the data was verified, and nothing failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.verifications.normalise import final_result
from apps.verifications.providers import Outcome

FEATURES_ONLY = "FEATURES_ONLY"
# The blocks whose values are per-field check results.
CHECK_BLOCKS = ("mrzChecksum", "mrzVerification", "mrzFeatureMatching", "featuresVerification")
# Check results that mean "this verification failed" (API.md); FOUND, VALID, FULL_MATCH,
# LEVENSHTEIN1, MISSING and the like do not.
FAILED_CHECKS = frozenset({"INVALID", "NO_MATCH", "MISMATCH"})


def evaluate(raw: dict[str, Any], *, process_type: str | None = None) -> Outcome:
    """Final status of a finished Signicat Paper process from its providerSpecific block."""
    verification = raw.get("verification")
    if not isinstance(verification, Mapping):
        verification = {}
    status = _flag(verification.get("status"))
    if status is False or raw.get("errors") or failed_checks(raw):
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


def failed_checks(raw: Mapping[str, Any]) -> list[str]:
    """`block.field` of every check that failed, e.g. ["mrzChecksum.documentNumber"]."""
    failed = []
    for block_name in CHECK_BLOCKS:
        block = raw.get(block_name)
        if not isinstance(block, Mapping):
            continue
        for field_name, value in block.items():
            if isinstance(value, str) and value.strip().upper() in FAILED_CHECKS:
                failed.append(f"{block_name}.{field_name}")
    return failed


def _flag(value: Any) -> bool | None:
    """The provider sends "true"/"false" strings; booleans are taken too. None when neither."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None
