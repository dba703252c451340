"""Electronic IDentification adapter against the seed's examples (samples/eid) and rule by rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from apps.verifications import providers
from apps.verifications.providers import eid

SAMPLES = Path(providers.__file__).parent / "samples" / "eid"
FINISHED = ("accepted", "rejected", "inconclusive")


def _load(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def _by_status(*statuses: str) -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.json") if json.loads(p.read_text()).get("status") in statuses)


def _accepted_raw() -> dict[str, Any]:
    return copy.deepcopy(_load("accepted")["providerSpecific"])


def test_it_has_a_sample_for_every_seed_example():
    assert sorted(p.stem for p in SAMPLES.glob("*.json")) == [
        "accepted",
        "failed",
        "final_result_example",
        "inconclusive",
        "rejected",
    ]


@pytest.mark.parametrize("name", _by_status(*FINISHED))
def test_it_gives_every_finished_sample_its_seed_status(name):
    sample = _load(name)
    outcome = eid.evaluate(sample["providerSpecific"], process_type=sample.get("processType"))
    assert outcome.status == sample["status"]
    assert outcome.provider_specific == sample["providerSpecific"]
    if outcome.status == "accepted":
        # The seed's accepted example has no finalResult; the prose gives it one.
        assert outcome.final_result
    else:
        assert outcome.final_result is None


def test_it_keeps_the_failed_sample_well_formed():
    # failed arrives as its own callback event, never as `finished`, so no mapping rule runs
    # on it: check only the shape the sandbox will replay.
    sample = _load("failed")
    assert sample["status"] == "failed"
    assert sample["processType"] in providers.PROCESS_TYPES["eid"]
    assert sample["failReason"]["type"] == "InactiveUser.Aborted"
    assert sample["failReason"]["message"]
    assert "finalResult" not in sample


def test_it_builds_the_accepted_final_result_from_the_ocr_data():
    # The seed's "Normalised final result" example is this ocr data with another expiry date.
    expected = {**_load("final_result_example")["finalResult"], "dateOfExpiry": "2025-10-05"}
    assert eid.evaluate(_accepted_raw(), process_type="substantial").final_result == expected


def test_it_goes_through_the_package_entry_point():
    raw = _accepted_raw()
    assert providers.evaluate("eid", raw, process_type="attended") == eid.evaluate(raw)


@pytest.mark.parametrize(
    "check", ["nonExpired", "notUnderage", "dataIntegrity", "livenessDetected", "notFaceSpoofing", "notBWCopy"]
)
def test_it_rejects_when_one_security_check_is_not_valid(check):
    raw = _accepted_raw()
    raw["ocr"]["securityChecks"][check]["valid"] = False
    outcome = eid.evaluate(raw)
    assert outcome.status == "rejected"
    assert outcome.final_result is None


def test_it_rejects_an_invalid_security_check_before_looking_at_score_and_features():
    raw = copy.deepcopy(_load("inconclusive")["providerSpecific"])
    raw["ocr"]["securityChecks"]["nonExpired"]["valid"] = False
    assert eid.evaluate(raw).status == "rejected"


def test_it_rejects_without_security_checks():
    raw = _accepted_raw()
    raw["ocr"]["securityChecks"] = {}
    assert eid.evaluate(raw).status == "rejected"
    assert eid.evaluate({}).status == "rejected"


@pytest.mark.parametrize("score", ["medium", "low", "verylow", None])
def test_it_is_inconclusive_when_the_similarity_score_is_not_high(score):
    raw = _accepted_raw()
    raw["ocr"]["similarityScore"] = score
    outcome = eid.evaluate(raw)
    assert outcome.status == "inconclusive"
    assert outcome.final_result is None


def test_it_is_inconclusive_when_a_feature_is_not_found():
    raw = _accepted_raw()
    raw["ocr"]["features"][1] = {"name": "OVI 2", "found": False, "side": "data"}
    assert eid.evaluate(raw).status == "inconclusive"


def test_it_is_inconclusive_for_missing_features_alone_with_a_high_score():
    raw = copy.deepcopy(_load("inconclusive")["providerSpecific"])
    raw["ocr"]["similarityScore"] = "high"
    assert eid.evaluate(raw).status == "inconclusive"


def test_it_is_inconclusive_for_a_low_score_alone_with_every_feature_found():
    raw = copy.deepcopy(_load("inconclusive")["providerSpecific"])
    for feature in raw["ocr"]["features"]:
        feature["found"] = True
    assert eid.evaluate(raw).status == "inconclusive"


def test_it_normalises_the_final_result():
    raw = _accepted_raw()
    raw["ocr"].update(dateOfBirth="29/04/2002", gender="Female", nationality="PT", issuingCountry="Portugal")
    result = eid.evaluate(raw).final_result
    assert result["dateOfBirth"] == "2002-04-29"
    assert result["gender"] == "F"
    assert result["nationality"] == "PRT"
    assert result["issuingCountry"] == "PRT"


# Seed "Final status of EID processes": EID returns accepted, rejected or inconclusive and
# "Assure API simply maps those values directly". The ocr data below says the opposite each
# time, so only EID's own verdict (manualApproval.status) can decide.
def test_seed_rule_eids_own_rejection_maps_directly_even_when_every_ocr_check_passed():
    raw = _accepted_raw()
    raw["manualApproval"] = {"status": "rejected", "reason": "Document held by someone else"}
    outcome = eid.evaluate(raw, process_type="attended")
    assert outcome.status == "rejected"
    assert outcome.final_result is None


def test_seed_rule_eids_own_acceptance_maps_directly_even_with_a_low_similarity_score():
    raw = copy.deepcopy(_load("inconclusive")["providerSpecific"])
    raw["manualApproval"] = {"status": "ACCEPTED"}
    outcome = eid.evaluate(raw, process_type="unattended")
    assert outcome.status == "accepted"
    assert outcome.final_result["firstName"] == "MARIA PAULA"


def test_seed_rule_eids_own_inconclusive_maps_directly_even_when_the_ocr_would_reject():
    raw = copy.deepcopy(_load("rejected")["providerSpecific"])
    raw["manualApproval"] = {"status": "inconclusive"}
    assert eid.evaluate(raw, process_type="attended").status == "inconclusive"


def test_it_never_accepts_on_an_agent_status_it_does_not_know():
    raw = _accepted_raw()
    raw["manualApproval"] = {"status": "pending"}
    assert eid.evaluate(raw, process_type="attended").status == "inconclusive"


def test_it_lets_the_ocr_decide_when_manual_approval_has_no_status():
    raw = _accepted_raw()
    raw["manualApproval"] = {"agent": "x"}
    assert eid.evaluate(raw, process_type="attended").status == "accepted"
