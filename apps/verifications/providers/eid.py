"""Electronic IDentification (seed 003, API.md "Provider mapping").

- EID's own verdict maps directly ("Assure API simply maps those values directly to the
  process' final status"): a `manualApproval.status` of accepted, rejected or inconclusive
  (attended and unattended processes, where an agent reviews) is the final status.
- Without that verdict the `ocr` block decides: any `ocr.securityChecks.<name>.valid` not
  true → rejected; else `ocr.similarityScore` other than high (missing included), or any
  `ocr.features[]` whose `found` is not true → inconclusive; else accepted.
- An accepted process gets a finalResult from the ocr identity data. The seed's accepted
  example has no finalResult; the prose (finalResult for every accepted process) wins.

Choices where the seed is silent:

- No `ocr`, or no security checks in it → rejected: the seed says every EID response has
  an ocr element, and without its checks nothing shows the document is valid.
- A feature that is not an object (the seed elides features as `{...}`) has no `found: true`
  and so counts as not found.
- A `manualApproval.status` that is present but none of the three (e.g. "pending") is no
  verdict to map: it cannot accept (the agent did not approve), and it is not a rejection
  either → inconclusive. A `manualApproval` without a status is ignored (the ocr decides).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.verifications.normalise import FINAL_RESULT_FIELDS, final_result
from apps.verifications.providers import Outcome


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _is_true(value: Any) -> bool:
    # The seed writes booleans as JSON true, but livenessDetected as the string "true".
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


_VERDICTS = ("accepted", "rejected", "inconclusive")


def _manual_verdict(raw: Mapping[str, Any]) -> str | None:
    """EID's agent verdict (manualApproval.status), or None when there is none."""
    status = _mapping(raw.get("manualApproval")).get("status")
    if status in (None, ""):
        return None
    word = str(status).strip().lower()
    return word if word in _VERDICTS else "inconclusive"


def _accepted(raw: dict[str, Any], ocr: Mapping[str, Any]) -> Outcome:
    fields = {name: ocr[name] for name in FINAL_RESULT_FIELDS if name in ocr}
    return Outcome(status="accepted", provider_specific=raw, final_result=final_result(fields))


def evaluate(raw: dict[str, Any], *, process_type: str | None = None) -> Outcome:
    """The final status of a finished EID process, and its finalResult when accepted."""
    ocr = _mapping(raw.get("ocr"))
    verdict = _manual_verdict(raw)
    if verdict == "accepted":
        return _accepted(raw, ocr)
    if verdict is not None:
        return Outcome(status=verdict, provider_specific=raw)

    checks = _mapping(ocr.get("securityChecks"))
    if not checks or not all(_is_true(_mapping(check).get("valid")) for check in checks.values()):
        return Outcome(status="rejected", provider_specific=raw)

    score = str(ocr.get("similarityScore") or "").strip().lower()
    features = ocr.get("features") or []
    all_found = isinstance(features, list) and all(_is_true(_mapping(f).get("found")) for f in features)
    if score != "high" or not all_found:
        return Outcome(status="inconclusive", provider_specific=raw)

    return _accepted(raw, ocr)
