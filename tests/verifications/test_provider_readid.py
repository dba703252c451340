"""ReadID adapter against the seed's examples (samples/readid) and rule by rule."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from apps.verifications import providers
from apps.verifications.providers import readid

SAMPLES = Path(providers.__file__).parent / "samples" / "readid"


def _load(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def _accepted_raw() -> dict[str, Any]:
    return copy.deepcopy(_load("accepted")["providerSpecific"])


def test_it_has_a_sample_for_every_seed_example():
    assert sorted(p.stem for p in SAMPLES.glob("*.json")) == ["accepted", "inconclusive", "rejected"]


@pytest.mark.parametrize("name", ["accepted", "inconclusive", "rejected"])
def test_it_gives_every_sample_its_seed_status(name):
    sample = _load(name)
    outcome = readid.evaluate(sample["providerSpecific"], process_type=sample.get("processType"))
    assert outcome.status == sample["status"] == name
    assert outcome.provider_specific == sample["providerSpecific"]
    if outcome.status == "accepted":
        assert outcome.final_result == sample["finalResult"]
    else:
        assert outcome.final_result is None


def test_it_goes_through_the_package_entry_point():
    raw = _accepted_raw()
    assert providers.evaluate("readid", raw, process_type="ready") == readid.evaluate(raw)


def test_it_is_inconclusive_when_clone_detection_failed():
    raw = _accepted_raw()
    raw["consolidatedIdentityData"]["chipCloneDetection"] = "FAILED"
    outcome = readid.evaluate(raw, process_type="ready")
    assert outcome.status == "inconclusive"
    assert outcome.final_result is None


@pytest.mark.parametrize("chip_verification", ["FAILED", "NOT_SUPPORTED", None])
def test_it_rejects_when_chip_verification_did_not_succeed(chip_verification):
    raw = _accepted_raw()
    raw["consolidatedIdentityData"]["chipVerification"] = chip_verification
    outcome = readid.evaluate(raw)
    assert outcome.status == "rejected"
    assert outcome.final_result is None


def test_it_rejects_a_failed_chip_even_when_clone_detection_failed_too():
    raw = _accepted_raw()
    raw["consolidatedIdentityData"].update(chipVerification="FAILED", chipCloneDetection="FAILED")
    assert readid.evaluate(raw).status == "rejected"


def test_it_rejects_without_identity_data():
    assert readid.evaluate({}).status == "rejected"


def test_it_accepts_without_clone_detection():
    raw = _accepted_raw()
    del raw["consolidatedIdentityData"]["chipCloneDetection"]
    outcome = readid.evaluate(raw)
    assert outcome.status == "accepted"
    assert outcome.final_result == _load("accepted")["finalResult"]


@pytest.mark.parametrize("value", ["NOT_AVAILABLE", "NOT_PERFORMED", "NOT_SUPPORTED", "not available", None])
def test_it_accepts_when_clone_detection_is_not_available(value):
    raw = _accepted_raw()
    raw["consolidatedIdentityData"]["chipCloneDetection"] = value
    assert readid.evaluate(raw).status == "accepted"


def test_it_is_inconclusive_for_an_unknown_clone_detection_result():
    raw = _accepted_raw()
    raw["consolidatedIdentityData"]["chipCloneDetection"] = "ERROR"
    assert readid.evaluate(raw).status == "inconclusive"


def test_it_reads_the_identity_data_inside_a_session_element():
    raw = {"session": _accepted_raw()}
    outcome = readid.evaluate(raw)
    assert outcome.status == "accepted"
    assert outcome.final_result == _load("accepted")["finalResult"]
    assert outcome.provider_specific == raw
    raw["session"]["consolidatedIdentityData"]["chipVerification"] = "FAILED"
    assert readid.evaluate(raw).status == "rejected"


def test_it_takes_the_document_type_from_the_document_code_when_missing():
    raw = _accepted_raw()
    del raw["consolidatedIdentityData"]["documentType"]
    assert readid.evaluate(raw).final_result["documentType"] == "passport"
