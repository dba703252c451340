"""ReadID: `chipVerification` and `chipCloneDetection` decide (seed 003, API.md "Provider mapping").

- chipVerification not SUCCEEDED (missing included) → rejected.
- chipCloneDetection FAILED → inconclusive ("not possible to check if the chip is real").
- chipCloneDetection SUCCEEDED, absent, or not available / not performed / not supported
  (older documents without clone detection) → accepted, with a finalResult from the same
  identity data.

Where the fields live: the seed's examples put them in `providerSpecific.consolidatedIdentityData`;
its element table names ReadID's element `session`. Both are read: consolidatedIdentityData at
the top, else `session.consolidatedIdentityData`, else `session` itself.

Choices where the seed is silent:

- A chipCloneDetection value that is neither a success, a "not available" spelling nor
  FAILED → inconclusive: it does not show the chip is real, and the seed advises a retry.
- documentType falls back on the MRZ `documentCode` (P → passport) when it is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.verifications.normalise import FINAL_RESULT_FIELDS, final_result
from apps.verifications.providers import Outcome

_CLONE_DETECTION_PASSES = ("", "SUCCEEDED", "NOT_AVAILABLE", "NOT_PERFORMED", "NOT_SUPPORTED", "NOT_CHECKED")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _identity_data(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    if "consolidatedIdentityData" in raw:
        return _mapping(raw["consolidatedIdentityData"])
    session = _mapping(raw.get("session"))
    if "consolidatedIdentityData" in session:
        return _mapping(session["consolidatedIdentityData"])
    return session


def _code(value: Any) -> str:
    return str(value or "").strip().upper().replace(" ", "_")


def evaluate(raw: dict[str, Any], *, process_type: str | None = None) -> Outcome:
    """The final status of a finished ReadID process, and its finalResult when accepted."""
    data = _identity_data(raw)
    if _code(data.get("chipVerification")) != "SUCCEEDED":
        return Outcome(status="rejected", provider_specific=raw)
    if _code(data.get("chipCloneDetection")) not in _CLONE_DETECTION_PASSES:
        return Outcome(status="inconclusive", provider_specific=raw)

    fields = {name: data[name] for name in FINAL_RESULT_FIELDS if name in data}
    if not fields.get("documentType"):
        fields["documentType"] = data.get("documentCode")
    return Outcome(status="accepted", provider_specific=raw, final_result=final_result(fields))
