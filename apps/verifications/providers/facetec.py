"""FaceTec: liveness (3D face scan) plus matching against an ID photo or selfie.

Seed "FaceTec results": all liveness checks passed and matchLevel >= 6 (1/100,000 FAR) →
accepted; matchLevel 1-5 → inconclusive; a failed liveness check or no match → rejected.

The match level is the top-level `matching.matchLevel`: the provider's final answer, which
names the algorithm it settled on. `matching.attempts` is the history of the tries (the seed's
inconclusive example tries three algorithms and ends on 5); a better attempt never overrides
the final answer (API.md "Provider mapping"). No top-level match level → rejected.

A face check says nothing about names or documents: its finalResult holds only
livenessDetected and similarityScore, which are no personal details.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.verifications.normalise import final_result
from apps.verifications.providers import Outcome

ACCEPT_MATCH_LEVEL = 6


def evaluate(raw: dict[str, Any], *, process_type: str | None = None) -> Outcome:
    """Final status of a finished FaceTec process from its providerSpecific block."""
    if not _liveness_passed(raw.get("liveness")):
        return Outcome(status="rejected", provider_specific=raw)
    level = _final_match_level(raw.get("matching"))
    if level is None or level < 1:
        return Outcome(status="rejected", provider_specific=raw)
    if level < ACCEPT_MATCH_LEVEL:
        return Outcome(status="inconclusive", provider_specific=raw)
    # The seed's accepted example reports exactly these two fields; an accepted match is
    # at least 1/100,000 FAR, which the vocabulary calls "high".
    return Outcome(
        status="accepted",
        provider_specific=raw,
        final_result=final_result({"livenessDetected": "true", "similarityScore": "high"}),
    )


def _is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def _liveness_passed(liveness: Any) -> bool:
    # Accepted needs every liveness check passed, so a missing block, a missing
    # `success` or an `error` counts as not passed rather than as "no check failed".
    if not isinstance(liveness, Mapping) or not _is_true(liveness.get("success")):
        return False
    if _is_true(liveness.get("error")):
        return False
    checks = liveness.get("faceScanSecurityChecks") or {}
    if not isinstance(checks, Mapping):
        return False
    return all(_is_true(value) for value in checks.values())


def _level(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _final_match_level(matching: Any) -> int | None:
    if not isinstance(matching, Mapping):
        return None
    return _level(matching.get("matchLevel"))
