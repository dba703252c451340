"""FaceTec's mapping (seed "FaceTec results", API.md "Provider mapping") against the seed's examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from apps.verifications.providers import Outcome, facetec

SAMPLES = Path(__file__).resolve().parents[2] / "apps" / "verifications" / "providers" / "samples" / "facetec"
FINISHED = ("accepted", "inconclusive", "rejected")
SECURITY_CHECKS = (
    "auditTrailVerificationCheckSucceeded",
    "replayCheckSucceeded",
    "faceScanLivenessCheckSucceeded",
    "sessionTokenCheckSucceeded",
)


def _sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def _evaluate(sample: dict[str, Any]) -> Outcome:
    return facetec.evaluate(sample["providerSpecific"], process_type=sample.get("processType"))


def _with_match_level(level: int) -> dict[str, Any]:
    raw = copy.deepcopy(_sample("accepted")["providerSpecific"])
    raw["matching"]["matchLevel"] = level
    for attempt in raw["matching"]["attempts"]:
        attempt["matchLevel"] = level
    return raw


def test_it_knows_every_facetec_sample():
    assert {p.stem for p in SAMPLES.glob("*.json")} == set(FINISHED)


@pytest.mark.parametrize("name", FINISHED)
def test_it_gives_each_seed_example_its_status(name):
    sample = _sample(name)
    assert _evaluate(sample).status == sample["status"] == name


def test_it_gives_the_accepted_example_the_seeds_final_result():
    sample = _sample("accepted")
    assert (
        _evaluate(sample).final_result
        == sample["finalResult"]
        == {"livenessDetected": "true", "similarityScore": "high"}
    )


@pytest.mark.parametrize("name", ["inconclusive", "rejected"])
def test_it_gives_no_final_result_unless_accepted(name):
    assert "finalResult" not in _sample(name)
    assert _evaluate(_sample(name)).final_result is None


@pytest.mark.parametrize("name", FINISHED)
def test_it_shows_the_provider_specific_block_as_given(name):
    sample = _sample(name)
    assert _evaluate(sample).provider_specific == sample["providerSpecific"]


@pytest.mark.parametrize(
    ("level", "status"),
    [(10, "accepted"), (6, "accepted"), (5, "inconclusive"), (1, "inconclusive"), (0, "rejected")],
)
def test_it_maps_the_match_level(level, status):
    outcome = facetec.evaluate(_with_match_level(level))
    assert outcome.status == status
    assert (outcome.final_result is not None) == (status == "accepted")


# API.md: "the top-level matching.matchLevel (the provider's final answer; attempts are
# history)". In each variant the attempts say something else than the final answer.
def test_seed_rule_the_top_level_match_level_decides_not_a_better_attempt():
    raw = _with_match_level(2)
    raw["matching"]["attempts"].append({"algorithm": "idPhoto", "matchLevel": 7, "success": True, "error": False})
    outcome = facetec.evaluate(raw)
    assert outcome.status == "inconclusive"
    assert outcome.final_result is None


def test_seed_rule_the_top_level_match_level_decides_not_worse_attempts():
    raw = _with_match_level(0)
    raw["matching"]["matchLevel"] = 6
    assert [a["matchLevel"] for a in raw["matching"]["attempts"]] and all(
        a["matchLevel"] == 0 for a in raw["matching"]["attempts"]
    )
    assert facetec.evaluate(raw).status == "accepted"


def test_seed_rule_attempts_without_a_final_match_level_are_no_match():
    raw = _with_match_level(9)
    del raw["matching"]["matchLevel"]
    assert facetec.evaluate(raw).status == "rejected"


def test_it_rejects_when_there_is_no_match_level():
    raw = _with_match_level(8)
    del raw["matching"]
    assert facetec.evaluate(raw).status == "rejected"


@pytest.mark.parametrize("check", SECURITY_CHECKS)
def test_it_rejects_a_failed_security_check_even_with_a_perfect_match(check):
    raw = _with_match_level(10)
    raw["liveness"]["faceScanSecurityChecks"][check] = False
    outcome = facetec.evaluate(raw)
    assert outcome.status == "rejected"
    assert outcome.final_result is None


def test_it_rejects_when_liveness_did_not_succeed():
    raw = _with_match_level(10)
    raw["liveness"]["success"] = False
    assert facetec.evaluate(raw).status == "rejected"


def test_it_rejects_when_liveness_is_missing():
    raw = _with_match_level(10)
    del raw["liveness"]
    assert facetec.evaluate(raw).status == "rejected"
