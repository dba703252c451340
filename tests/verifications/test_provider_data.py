"""providerSpecific filled in gradually, and the provider's raw result kept for the full result only.

Seed 003: providerSpecific "is filled in gradually as the provider shares this information. For
example, some providers start sharing information as soon as the identity document is uploaded".
API.md: the full result zip holds `provider-result.json`, "the provider's raw result as it arrived
(the callback's optional rawResult, any JSON ...), kept encrypted and never shown elsewhere".
"""

from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest
from django.db import connection

from apps.audit.models import Transition
from apps.verifications.models import VerificationProcess
from apps.verifications.sandbox import sandbox_samples
from apps.verifications.services import provider_specific_merge
from tests.factories import make_person, staff_login

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/processes"
RAW_MARKER = "sub-breakdown-original-document-present"


def _process(api, provider="onfido", process_type="documentSelfie") -> str:
    body = {"provider": provider, **({"processType": process_type} if process_type else {})}
    return api.post(URL, body, format="json").json()["processId"]


def _accepted() -> dict:
    return copy.deepcopy(sandbox_samples()["onfido"]["accepted"]["providerSpecific"])


def _zip(api, process_id) -> dict[str, object]:
    response = api.get(f"{URL}/{process_id}/fullresult")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    return {name: json.loads(archive.read(name)) for name in archive.namelist()}


def test_seed_rule_provider_specific_from_a_started_callback_shows_in_get_process_at_once(api, callback):
    process_id = _process(api)
    document = {"documentVerification": {"documentType": "passport", "subResult": "clear"}}
    response = callback("onfido", {"processId": process_id, "event": "started", "providerSpecific": document})
    assert response.status_code == 200

    body = api.get(f"{URL}/{process_id}").json()
    assert body["status"] == "processing"
    assert body["providerSpecific"] == document
    assert "finalResult" not in body


def test_seed_rule_data_arriving_in_parts_is_merged_and_the_final_mapping_reads_all_of_it(api, callback):
    process_id = _process(api)
    full = _accepted()
    # The document report first (when the document is uploaded), the face report at the end.
    callback(
        "onfido",
        {
            "processId": process_id,
            "event": "started",
            "providerSpecific": {"documentVerification": full["documentVerification"]},
        },
    )
    callback(
        "onfido",
        {
            "processId": process_id,
            "event": "finished",
            "providerSpecific": {"facialSimilarity": full["facialSimilarity"]},
        },
    )

    body = api.get(f"{URL}/{process_id}").json()
    # documentSelfie needs the face: only the merged data can give accepted.
    assert body["status"] == "accepted"
    assert body["providerSpecific"] == full
    assert body["finalResult"]["similarityScore"] == "high"


def test_a_later_started_callback_adds_data_without_a_status_change(api, callback):
    process_id = _process(api)
    callback("onfido", {"processId": process_id, "event": "started"})
    rows = Transition.objects.filter(object_id=process_id).count()

    response = callback(
        "onfido",
        {"processId": process_id, "event": "started", "providerSpecific": {"facialSimilarity": {"result": "clear"}}},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "processing"
    assert api.get(f"{URL}/{process_id}").json()["providerSpecific"] == {"facialSimilarity": {"result": "clear"}}
    assert Transition.objects.filter(object_id=process_id).count() == rows  # data is no state change


def test_the_merge_is_deep_for_objects_and_later_wins_for_everything_else():
    earlier = {"a": {"x": 1, "y": {"p": 1}}, "list": [1, 2], "s": "old", "keep": True}
    later = {"a": {"y": {"q": 2}, "z": 3}, "list": [3], "s": None}
    assert provider_specific_merge(earlier, later) == {
        "a": {"x": 1, "y": {"p": 1, "q": 2}, "z": 3},
        "list": [3],
        "s": None,
        "keep": True,
    }
    assert earlier == {"a": {"x": 1, "y": {"p": 1}}, "list": [1, 2], "s": "old", "keep": True}  # not mutated


def test_a_canceled_callbacks_data_is_kept_too(api, callback):
    process_id = _process(api, "connect:idin", None)
    error = {"error": {"error": "access_denied", "errorDescription": "urn:signicat:error:usercancel"}}
    callback("connect", {"processId": process_id, "event": "canceled", "providerSpecific": error})
    body = api.get(f"{URL}/{process_id}").json()
    assert (body["status"], body["providerSpecific"]) == ("canceled", error)


def test_the_raw_result_goes_to_provider_result_json_only(api, callback, client):
    process_id = _process(api)
    raw = {"report": {"breakdown": {"visual_authenticity": {"breakdown": {RAW_MARKER: {"result": "clear"}}}}}, "n": [1]}
    callback(
        "onfido", {"processId": process_id, "event": "finished", "providerSpecific": _accepted(), "rawResult": raw}
    )

    files = _zip(api, process_id)
    assert set(files) == {"process.json", "provider-result.json"}
    assert files["provider-result.json"] == raw
    assert RAW_MARKER not in json.dumps(files["process.json"])
    # Never shown elsewhere: not in Get process, not in the list, not on the staff page.
    assert RAW_MARKER not in api.get(f"{URL}/{process_id}").content.decode()
    assert RAW_MARKER not in api.get(URL).content.decode()
    staff = make_person("root@example.com")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    staff_login(client, staff)
    page = client.get(f"/admin/verifications/verificationprocess/{process_id}/change/")
    assert page.status_code == 200 and RAW_MARKER not in page.content.decode()


def test_the_raw_result_is_encrypted_at_rest(api, callback):
    process_id = _process(api)
    callback(
        "onfido",
        {"processId": process_id, "event": "finished", "providerSpecific": _accepted(), "rawResult": {"m": RAW_MARKER}},
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT raw_result FROM verifications_verificationprocess WHERE id = %s", [process_id])
        (stored,) = cursor.fetchone()
    assert RAW_MARKER not in stored
    assert VerificationProcess.objects.get(pk=process_id).raw_result == {"m": RAW_MARKER}


@pytest.mark.parametrize("raw", [["a", "list"], "a string", 42, True])
def test_the_raw_result_may_be_any_json(api, callback, raw):
    process_id = _process(api)
    callback("onfido", {"processId": process_id, "event": "started", "rawResult": raw})
    callback("onfido", {"processId": process_id, "event": "canceled"})
    assert _zip(api, process_id)["provider-result.json"] == raw


def test_without_a_raw_result_the_zip_holds_the_final_callback_as_received(api, callback):
    process_id = _process(api)
    callback("onfido", {"processId": process_id, "event": "started", "providerSpecific": {"early": {"a": 1}}})
    reason = {"type": "upload_failed", "message": "Multiple faces"}
    callback("onfido", {"processId": process_id, "event": "failed", "failReason": reason, "providerSpecific": {"b": 2}})
    assert _zip(api, process_id)["provider-result.json"] == {
        "event": "failed",
        "providerSpecific": {"b": 2},
        "failReason": reason,
    }
    # Get process shows everything that arrived, merged.
    assert api.get(f"{URL}/{process_id}").json()["providerSpecific"] == {"early": {"a": 1}, "b": 2}


def test_the_merge_survives_a_nesting_deeper_than_the_stack():
    def nested(depth: int, leaf: dict) -> dict:
        node = leaf
        for _ in range(depth):
            node = {"n": node}
        return node

    merged = provider_specific_merge(nested(5000, {"a": 1}), nested(5000, {"b": 2}))
    node = merged
    for _ in range(5000):
        node = node["n"]
    assert node == {"a": 1, "b": 2}
