"""Signicat Paper's mapping (seed "Signicat Paper results", API.md "Provider mapping") against the seed's examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from apps.verifications.providers import Outcome, signicatpaper

SAMPLES = Path(__file__).resolve().parents[2] / "apps" / "verifications" / "providers" / "samples" / "signicatpaper"
FINISHED = ("accepted", "rejected", "inconclusive")
# These arrive as `failed` / `canceled` callback events, not `finished`: the mapping never runs.
EVENTS = ("failed", "canceled")


def _sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def _evaluate(sample: dict[str, Any]) -> Outcome:
    return signicatpaper.evaluate(sample["providerSpecific"], process_type=sample.get("processType"))


def _accepted_raw() -> dict[str, Any]:
    return copy.deepcopy(_sample("accepted")["providerSpecific"])


def test_it_knows_every_signicatpaper_sample():
    assert {p.stem for p in SAMPLES.glob("*.json")} == set(FINISHED) | set(EVENTS)


@pytest.mark.parametrize("name", FINISHED)
def test_it_gives_each_seed_example_its_status(name):
    sample = _sample(name)
    assert _evaluate(sample).status == sample["status"] == name


def test_it_builds_the_accepted_final_result_from_the_mrz():
    sample = _sample("accepted")
    assert _evaluate(sample).final_result == sample["finalResult"]


def test_it_gives_the_rejected_example_no_final_result_although_the_seed_shows_one():
    # The seed's rejected example carries a finalResult; its prose (and API.md) say accepted only.
    sample = _sample("rejected")
    assert "finalResult" in sample
    assert _evaluate(sample).final_result is None


def test_it_gives_the_inconclusive_example_no_final_result():
    assert _evaluate(_sample("inconclusive")).final_result is None


@pytest.mark.parametrize("name", FINISHED)
def test_it_shows_the_provider_specific_block_as_given(name):
    sample = _sample(name)
    assert _evaluate(sample).provider_specific == sample["providerSpecific"]


def test_it_reads_the_failed_example_as_a_failed_event_with_its_reason():
    # Not evaluated: a failed process comes as a `failed` callback event with a failReason.
    sample = _sample("failed")
    assert sample["status"] == "failed"
    assert sample["failReason"] == {
        "type": "MicrophoneOrCameraPermissionDenied",
        "message": "No access to microphone/camera",
    }
    assert not sample["providerSpecific"]
    assert "finalResult" not in sample


def test_it_reads_the_canceled_example_as_a_canceled_event():
    # Not evaluated: a canceled process comes as a `canceled` callback event; failReason is for failed only.
    sample = _sample("canceled")
    assert sample["status"] == "canceled"
    assert "failReason" not in sample
    assert "finalResult" not in sample
    assert not sample.get("providerSpecific")


@pytest.mark.parametrize("status", ["false", "FALSE", False])
def test_it_rejects_a_failed_verification(status):
    raw = _accepted_raw()
    raw["verification"]["status"] = status
    outcome = signicatpaper.evaluate(raw)
    assert outcome.status == "rejected"
    assert outcome.final_result is None


def test_it_takes_a_boolean_true_status():
    raw = _accepted_raw()
    raw["verification"]["status"] = True
    assert signicatpaper.evaluate(raw).status == "accepted"


def test_it_rejects_when_there_are_errors():
    raw = _accepted_raw()
    raw["errors"] = ["Invalid date_of_expiry: NOT in the future, value 2016-10-20"]
    assert signicatpaper.evaluate(raw).status == "rejected"


def test_it_accepts_with_an_empty_error_list():
    raw = _accepted_raw()
    raw["errors"] = []
    assert signicatpaper.evaluate(raw).status == "accepted"


def test_it_finds_a_document_without_mrz_inconclusive_even_with_mrz_data():
    raw = _accepted_raw()
    raw["verification"]["type"] = "FEATURES_ONLY"
    outcome = signicatpaper.evaluate(raw)
    assert outcome.status == "inconclusive"
    assert outcome.final_result is None


def test_it_rejects_a_document_without_mrz_whose_fields_are_not_valid():
    raw = copy.deepcopy(_sample("inconclusive")["providerSpecific"])
    raw["verification"]["status"] = "false"
    assert signicatpaper.evaluate(raw).status == "rejected"


def test_it_never_accepts_without_mrz_data():
    raw = _accepted_raw()
    del raw["mrz"]
    assert signicatpaper.evaluate(raw).status == "inconclusive"


def test_it_does_not_accept_a_verification_without_a_status():
    raw = _accepted_raw()
    del raw["verification"]["status"]
    assert signicatpaper.evaluate(raw).status == "inconclusive"


def test_it_normalises_mrz_values():
    raw = _accepted_raw()
    raw["mrz"].update(
        firstName="MARIA<PAULA",
        lastName="SANTOS<MENDES<<",
        dateOfExpiry="301015",
        dateOfBirth="020429",
        nationality="PRT",
        issuingCountry="D<<",
        gender="<",
        documentType="P<",
        documentNumber="XY1101P52<",
    )
    assert signicatpaper.evaluate(raw).final_result == {
        "firstName": "MARIA PAULA",
        "lastName": "SANTOS MENDES",
        "dateOfExpiry": "2030-10-15",
        "gender": "X",
        "nationality": "PRT",
        "documentType": "passport",
        "documentNumber": "XY1101P52",
        "issuingCountry": "DEU",
        "dateOfBirth": "2002-04-29",
    }


# Seed: rejected when "an error was found or at least one verification failed". Each variant
# below keeps status "true" and no errors, so only the failed check can decide.
@pytest.mark.parametrize(
    ("block", "field", "value"),
    [
        ("mrzChecksum", "documentNumber", "INVALID"),
        ("mrzVerification", "dateOfBirth", "INVALID"),
        ("mrzFeatureMatching", "lastName", "INVALID"),
        ("mrzFeatureMatching", "firstName", "NO_MATCH"),
        ("mrzFeatureMatching", "dateOfBirth", "mismatch"),
    ],
)
def test_seed_rule_at_least_one_failed_verification_rejects_even_with_status_true_and_no_errors(block, field, value):
    raw = _accepted_raw()
    assert raw["verification"]["status"] == "true" and "errors" not in raw
    raw[block][field] = value
    outcome = signicatpaper.evaluate(raw)
    assert outcome.status == "rejected"
    assert outcome.final_result is None
    assert signicatpaper.failed_checks(raw) == [f"{block}.{field}"]


def test_seed_rule_a_document_without_mrz_is_rejected_when_a_text_field_is_not_valid():
    raw = copy.deepcopy(_sample("inconclusive")["providerSpecific"])
    assert raw["verification"] == {"type": "FEATURES_ONLY", "status": "true"}
    raw["featuresVerification"]["dateOfIssue"] = "INVALID"
    assert signicatpaper.evaluate(raw).status == "rejected"


def test_seed_rule_a_document_without_mrz_whose_text_fields_are_valid_is_inconclusive_never_accepted():
    raw = copy.deepcopy(_sample("inconclusive")["providerSpecific"])
    # Every text field found or valid, and MRZ data present: still no MRZ verification.
    raw["featuresVerification"] = {name: "VALID" for name in raw["featuresVerification"]}
    raw["mrz"] = copy.deepcopy(_accepted_raw()["mrz"])
    assert signicatpaper.evaluate(raw).status == "inconclusive"


@pytest.mark.parametrize("value", ["FOUND", "VALID", "FULL_MATCH", "LEVENSHTEIN1", "MISSING"])
def test_it_does_not_count_a_found_missing_or_close_match_as_a_failed_check(value):
    raw = _accepted_raw()
    raw["mrzFeatureMatching"]["personalNumber"] = value
    assert signicatpaper.evaluate(raw).status == "accepted"
