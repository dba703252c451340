"""Connect's mapping (seed "Connect results", API.md "Provider mapping") against the seed's examples."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jwt
import pytest

from apps.verifications.providers import Outcome, connect

SAMPLES = Path(__file__).resolve().parents[2] / "apps" / "verifications" / "providers" / "samples" / "connect"
FINISHED = ("accepted_json", "accepted_jwt", "accepted_encrypted_jwt", "rejected", "canceled")
# The seed's "format example of userInfo" snippets: providerSpecific fragments, no status.
FRAGMENTS = ("userinfo_json_example", "userinfo_jwt_example")
# The seed's JSON example's finalResult; not normalised (gender "1" stays "1").
IDIN_FINAL_RESULT = {
    "firstName": "VJ",
    "lastName": "Vries",
    "gender": "1",
    "personalIdentificationNumber": "FANTASYBANK1234567890",
}
HMAC_KEY = "a-test-key-that-is-long-enough-for-hs256"


def _sample(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.json").read_text())


def _evaluate(sample: dict[str, Any]) -> Outcome:
    # As under the local and test settings, where the seed's unsigned examples keep working.
    return connect.evaluate(
        sample["providerSpecific"], process_type=sample.get("processType"), unverified_jwt_allowed=True
    )


def _user_info() -> dict[str, Any]:
    return copy.deepcopy(_sample("accepted_json")["providerSpecific"]["userInfo"])


def _signed(claims: dict[str, Any], *, kid: str = "k1", key: str = HMAC_KEY) -> str:
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})


def test_it_knows_every_connect_sample():
    assert {p.stem for p in SAMPLES.glob("*.json")} == set(FINISHED) | set(FRAGMENTS)


@pytest.mark.parametrize("name", FINISHED)
def test_it_gives_each_seed_example_its_status(name):
    sample = _sample(name)
    assert _evaluate(sample).status == sample["status"] == name.split("_", 1)[0]


def test_it_gives_the_json_example_the_seeds_final_result():
    sample = _sample("accepted_json")
    assert _evaluate(sample).final_result == sample["finalResult"] == IDIN_FINAL_RESULT


def test_it_decodes_the_jwt_example_although_the_seed_shows_no_final_result():
    # The seed's table says a plain JWT gives a finalResult; its example lacks one. The prose wins.
    sample = _sample("accepted_jwt")
    assert "finalResult" not in sample
    assert _evaluate(sample).final_result == IDIN_FINAL_RESULT


def test_it_keeps_a_jwt_user_info_as_given_in_provider_specific():
    sample = _sample("accepted_jwt")
    outcome = _evaluate(sample)
    assert outcome.provider_specific == sample["providerSpecific"]
    assert isinstance(outcome.provider_specific["userInfo"], str)


def test_it_accepts_an_encrypted_user_info_without_a_final_result():
    sample = _sample("accepted_encrypted_jwt")
    assert sample["providerSpecific"]["userInfo"].count(".") == 4
    outcome = _evaluate(sample)
    assert outcome.status == "accepted"
    assert outcome.final_result is None


@pytest.mark.parametrize("name", FRAGMENTS)
def test_it_reads_the_seeds_user_info_format_examples(name):
    raw = {k: v for k, v in _sample(name).items() if k != "_note"}
    outcome = connect.evaluate(raw, unverified_jwt_allowed=True)
    assert outcome.status == "accepted"
    assert outcome.final_result == IDIN_FINAL_RESULT


@pytest.mark.parametrize("name", ["rejected", "canceled"])
def test_it_gives_no_final_result_unless_accepted(name):
    assert _evaluate(_sample(name)).final_result is None


@pytest.mark.parametrize(
    "error",
    [
        {"error": "access_denied", "errorDescription": "urn:signicat:error:USERCANCEL; aborted"},
        {"error": "urn:signicat:error:usercancel"},
        "urn:signicat:error:UserCancel",
    ],
)
def test_it_cancels_when_the_end_user_canceled(error):
    outcome = connect.evaluate({"error": error})
    assert outcome.status == "canceled"
    assert outcome.final_result is None


@pytest.mark.parametrize(
    "error",
    [{"error": "access_denied", "errorDescription": "urn:signicat:error:internal:Expired; "}, "server_error"],
)
def test_it_rejects_any_other_error(error):
    assert connect.evaluate({"error": error, "userInfo": _user_info()}).status == "rejected"


def test_it_decodes_a_plain_jwt_user_info():
    token = _signed({"given_name": "Ada", "family_name": "Lovelace", "gender": "F", "signicat.national_id": "NID-7"})
    outcome = connect.evaluate({"userInfo": token}, unverified_jwt_allowed=True)
    assert outcome.status == "accepted"
    assert outcome.final_result == {
        "firstName": "Ada",
        "lastName": "Lovelace",
        "gender": "F",
        "personalIdentificationNumber": "NID-7",
    }


def test_it_reads_nested_claims():
    token = _signed({"given_name": "Ada", "signicat": {"national_id": "NID-7"}})
    assert connect.evaluate({"userInfo": token}, unverified_jwt_allowed=True).final_result == {
        "firstName": "Ada",
        "personalIdentificationNumber": "NID-7",
    }


def test_it_accepts_any_five_segment_token_without_a_final_result():
    outcome = connect.evaluate({"userInfo": "eyJhbGciOiJSU0EtT0FFUCJ9.a2V5.aXY.Y2lwaGVy.dGFn"})
    assert outcome.status == "accepted"
    assert outcome.final_result is None


def test_it_rejects_an_unreadable_jwt():
    assert connect.evaluate({"userInfo": "not.a.jwt"}, unverified_jwt_allowed=True).status == "rejected"


def test_it_prefers_the_national_id():
    user_info = _user_info() | {"signicat.national_id": "NID-1", "consumer.bin": "BIN-1"}
    assert connect.evaluate({"userInfo": user_info}).final_result["personalIdentificationNumber"] == "NID-1"


def test_it_falls_back_to_the_consumer_bin():
    user_info = _user_info() | {"consumer.bin": "BIN-1"}
    del user_info["signicat.national_id"]
    assert connect.evaluate({"userInfo": user_info}).final_result["personalIdentificationNumber"] == "BIN-1"


def test_it_falls_back_to_a_nested_consumer_bin():
    user_info = {"given_name": "VJ", "consumer": {"bin": "BIN-2"}}
    assert connect.evaluate({"userInfo": user_info}).final_result == {
        "firstName": "VJ",
        "personalIdentificationNumber": "BIN-2",
    }


def test_it_checks_the_signature_when_keys_are_given():
    keys = {
        "k1": jwt.PyJWK({"kty": "oct", "k": jwt.utils.base64url_encode(HMAC_KEY.encode()).decode(), "alg": "HS256"})
    }
    good = _signed({"given_name": "Ada"})
    forged = _signed({"given_name": "Eve"}, key="another-key-that-is-long-enough-for-hs256")
    unknown = _signed({"given_name": "Eve"}, kid="k2")
    assert connect.evaluate({"userInfo": good}, keys=keys).final_result == {"firstName": "Ada"}
    assert connect.evaluate({"userInfo": forged}, keys=keys).status == "rejected"
    assert connect.evaluate({"userInfo": unknown}, keys=keys).status == "rejected"


def test_it_accepts_an_id_token_alone_without_a_final_result():
    raw = {"idToken": _sample("accepted_json")["providerSpecific"]["idToken"]}
    outcome = connect.evaluate(raw)
    assert outcome.status == "accepted"
    assert outcome.final_result is None


def test_it_rejects_a_result_without_any_authentication_data():
    assert connect.evaluate({}).status == "rejected"


# Seed table "Provider JSON elements": Connect's are "idtoken, userInfo, error" (the examples spell
# it idToken). No userInfo here, so only the ID token shows the authentication happened.
def test_seed_rule_the_id_token_is_read_as_the_seeds_table_spells_it_idtoken():
    token = _sample("accepted_json")["providerSpecific"]["idToken"]
    outcome = connect.evaluate({"idtoken": token})
    assert outcome.status == "accepted"
    assert outcome.final_result is None
    assert connect.evaluate({"idtoken": ""}).status == "rejected"


# API.md: "a plain JWT is decoded (its signature checked when the provider's keys are
# configured)"; without keys it is read only where the settings allow it (not in production).
def test_it_fails_a_plain_jwt_user_info_without_keys_where_unverified_jwts_are_not_allowed():
    token = _signed({"given_name": "Mallory", "signicat.national_id": "NID-FORGED"})
    outcome = connect.evaluate({"userInfo": token})
    assert outcome.status == "failed"
    assert outcome.final_result is None
    assert outcome.fail_reason["type"] == "unverifiable_userinfo"


def test_it_still_reads_json_and_encrypted_user_info_without_keys():
    # A JSON userInfo came inside the provider's signed callback; an encrypted one is never read.
    assert connect.evaluate({"userInfo": _user_info()}).final_result == IDIN_FINAL_RESULT
    assert _sample("accepted_encrypted_jwt")["providerSpecific"]["userInfo"].count(".") == 4
    assert connect.evaluate(_sample("accepted_encrypted_jwt")["providerSpecific"]).status == "accepted"
