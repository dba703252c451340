"""Onfido adapter against the seed's examples (samples/onfido) and rule by rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from apps.verifications import providers
from apps.verifications.providers import onfido

SAMPLES = Path(providers.__file__).parent / "samples" / "onfido"
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
        "canceled",
        "failed",
        "inconclusive",
        "pending",
        "provider_specific_example",
        "rejected",
    ]


@pytest.mark.parametrize("name", _by_status(*FINISHED))
def test_it_gives_every_finished_sample_its_seed_status(name):
    sample = _load(name)
    outcome = onfido.evaluate(sample["providerSpecific"], process_type=sample.get("processType"))
    assert outcome.status == sample["status"]
    assert outcome.provider_specific == sample["providerSpecific"]
    if outcome.status == "accepted":
        assert outcome.final_result == sample["finalResult"]
    else:
        assert outcome.final_result is None


@pytest.mark.parametrize("name", _by_status("canceled", "failed"))
def test_it_keeps_canceled_and_failed_samples_well_formed(name):
    # canceled and failed arrive as their own callback events, never as `finished`, so no
    # mapping rule runs on them: check only the shape the sandbox will replay.
    sample = _load(name)
    assert sample["provider"] == "onfido"
    assert sample["processType"] in providers.PROCESS_TYPES["onfido"]
    assert "finalResult" not in sample
    if sample["status"] == "failed":
        assert sample["failReason"]["type"] == "upload_failed"
        assert sample["failReason"]["message"]
    else:
        assert "failReason" not in sample
        assert sample["providerSpecific"] == {}


def test_it_keeps_the_in_progress_samples_without_a_result():
    pending = _load("pending")
    assert pending["status"] == "pending"
    assert "providerSpecific" not in pending
    assert "finalResult" not in pending
    partial = _load("provider_specific_example")
    assert partial["providerSpecific"]["facialSimilarity"]["result"] == "clear"
    assert "status" not in partial


def test_it_goes_through_the_package_entry_point():
    sample = _load("accepted")
    assert providers.evaluate("onfido", sample["providerSpecific"]) == onfido.evaluate(sample["providerSpecific"])


@pytest.mark.parametrize("process_type", ["documentSelfie", "documentVideo"])
def test_it_accepts_a_clear_document_and_face_with_the_similarity_score(process_type):
    outcome = onfido.evaluate(_accepted_raw(), process_type=process_type)
    assert outcome.status == "accepted"
    assert outcome.final_result["similarityScore"] == "high"
    assert outcome.final_result["documentType"] == "identityCard"


@pytest.mark.parametrize("process_type", ["documentSelfie", "documentVideo"])
def test_it_is_inconclusive_when_the_face_is_not_clear(process_type):
    raw = _accepted_raw()
    raw["facialSimilarity"]["result"] = "consider"
    outcome = onfido.evaluate(raw, process_type=process_type)
    assert outcome.status == "inconclusive"
    assert outcome.final_result is None


@pytest.mark.parametrize("breakdown", ["imageIntegrity", "faceComparison", "visualAuthenticity"])
def test_it_is_inconclusive_when_one_face_verification_did_not_succeed(breakdown):
    raw = _accepted_raw()
    raw["facialSimilarity"][breakdown] = "consider"
    assert onfido.evaluate(raw, process_type="documentSelfie").status == "inconclusive"


@pytest.mark.parametrize("process_type", ["documentSelfie", "documentVideo"])
def test_it_is_inconclusive_when_a_face_process_has_no_facial_similarity(process_type):
    raw = _accepted_raw()
    del raw["facialSimilarity"]
    assert onfido.evaluate(raw, process_type=process_type).status == "inconclusive"


def test_it_ignores_the_face_for_a_document_process():
    raw = _accepted_raw()
    raw["facialSimilarity"] = {"result": "consider", "faceComparison": "consider", "similarityScore": "low"}
    outcome = onfido.evaluate(raw, process_type="document")
    assert outcome.status == "accepted"
    assert "similarityScore" not in outcome.final_result
    assert outcome.final_result["documentNumber"] == "1234567890"


def test_it_accepts_a_document_process_without_facial_similarity():
    raw = _accepted_raw()
    del raw["facialSimilarity"]
    assert onfido.evaluate(raw, process_type="document").status == "accepted"


def test_it_checks_the_face_when_present_and_the_process_type_is_unknown_to_the_payload():
    raw = _accepted_raw()
    raw["facialSimilarity"]["result"] = "consider"
    assert onfido.evaluate(raw).status == "inconclusive"
    del raw["facialSimilarity"]
    assert onfido.evaluate(raw).status == "accepted"


def test_it_rejects_a_rejected_document_whatever_the_face_says():
    raw = _accepted_raw()
    raw["documentVerification"].update(result="consider", subResult="rejected")
    outcome = onfido.evaluate(raw, process_type="documentSelfie")
    assert outcome.status == "rejected"
    assert outcome.final_result is None


@pytest.mark.parametrize("result", ["consider", "clear"])
@pytest.mark.parametrize("sub_result", ["suspected", "caution", "consider"])
def test_it_is_inconclusive_for_a_suspicious_document(result, sub_result):
    raw = _accepted_raw()
    raw["documentVerification"].update(result=result, subResult=sub_result)
    assert onfido.evaluate(raw, process_type="document").status == "inconclusive"


def test_it_is_inconclusive_for_a_suspicious_document_with_a_clear_face():
    raw = copy.deepcopy(_load("inconclusive")["providerSpecific"])
    raw["facialSimilarity"]["result"] = "clear"
    assert onfido.evaluate(raw, process_type="documentSelfie").status == "inconclusive"


def test_it_is_inconclusive_for_a_clear_document_with_a_face_to_consider():
    raw = copy.deepcopy(_load("inconclusive")["providerSpecific"])
    raw["documentVerification"].update(result="clear", subResult="clear")
    assert onfido.evaluate(raw, process_type="documentSelfie").status == "inconclusive"
    assert onfido.evaluate(raw, process_type="document").status == "accepted"


def test_it_is_inconclusive_when_a_document_breakdown_is_not_clear():
    raw = _accepted_raw()
    raw["documentVerification"]["compromisedDocument"] = "consider"
    assert onfido.evaluate(raw, process_type="document").status == "inconclusive"


def test_it_rejects_a_process_without_document_verification():
    assert onfido.evaluate(_load("provider_specific_example")["providerSpecific"]).status == "rejected"
    assert onfido.evaluate({}, process_type="document").status == "rejected"


def test_it_refuses_an_unknown_process_type():
    with pytest.raises(ValueError, match="selfie"):
        onfido.evaluate(_accepted_raw(), process_type="selfie")


def test_it_normalises_the_final_result():
    raw = _accepted_raw()
    raw["documentVerification"].update(
        dateOfBirth="29.04.2002", gender="female", nationality="PT", documentType="Passport"
    )
    result = onfido.evaluate(raw, process_type="documentSelfie").final_result
    assert result["dateOfBirth"] == "2002-04-29"
    assert result["gender"] == "F"
    assert result["nationality"] == "PRT"
    assert result["documentType"] == "passport"


# Seed "rejected (Onfido)": "poor image quality (imageIntegrity), unknown document type
# (documentType), the end-user is below the minimum accepted age (ageValidation)". Each variant
# keeps result and subResult clear and the face clear, so only the named reason can decide.
@pytest.mark.parametrize("breakdown", ["imageIntegrity", "ageValidation"])
@pytest.mark.parametrize("value", ["consider", "unidentified"])
def test_seed_rule_poor_image_quality_or_under_age_rejects_the_document(breakdown, value):
    raw = _accepted_raw()
    raw["documentVerification"][breakdown] = value
    outcome = onfido.evaluate(raw, process_type="documentSelfie")
    assert outcome.status == "rejected"
    assert outcome.final_result is None


@pytest.mark.parametrize("spelling", ["unknown", "UNKNOWN", " Unknown "])
def test_seed_rule_an_unknown_document_type_rejects_even_when_every_result_is_clear(spelling):
    raw = _accepted_raw()
    raw["documentVerification"]["documentType"] = spelling
    assert raw["documentVerification"]["result"] == raw["documentVerification"]["subResult"] == "clear"
    assert onfido.evaluate(raw, process_type="document").status == "rejected"


def test_seed_rule_a_rejection_reason_wins_over_suspected_fraud():
    raw = copy.deepcopy(_load("inconclusive")["providerSpecific"])  # subResult suspected
    raw["documentVerification"]["documentType"] = "unknown"
    assert onfido.evaluate(raw, process_type="documentSelfie").status == "rejected"


# Seed "Suspected fraud (inconclusive)": dataValidation, visualAuthenticity, compromisedDocument,
# dataConsistency, policeRecord. Result and subResult stay clear: the breakdown alone decides.
@pytest.mark.parametrize(
    "breakdown", ["dataValidation", "visualAuthenticity", "compromisedDocument", "dataConsistency", "policeRecord"]
)
def test_seed_rule_a_suspected_fraud_breakdown_makes_the_document_inconclusive_not_rejected(breakdown):
    raw = _accepted_raw()
    raw["documentVerification"][breakdown] = "consider"
    outcome = onfido.evaluate(raw, process_type="documentSelfie")
    assert outcome.status == "inconclusive"
    assert outcome.final_result is None


# Seed "Facial similarity verification (inconclusive)": imageIntegrity, faceComparison,
# visualAuthenticity of facialSimilarity. The same imageIntegrity name rejects in the document.
@pytest.mark.parametrize("breakdown", ["imageIntegrity", "faceComparison", "visualAuthenticity"])
def test_seed_rule_every_facial_similarity_breakdown_gives_inconclusive_even_under_a_clear_face_result(breakdown):
    raw = _accepted_raw()
    raw["facialSimilarity"][breakdown] = "consider"
    assert raw["facialSimilarity"]["result"] == "clear"
    assert onfido.evaluate(raw, process_type="documentVideo").status == "inconclusive"
