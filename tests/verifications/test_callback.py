from __future__ import annotations

import uuid

import pytest

from apps.audit.models import Transition
from apps.identities.services import identity_activate
from apps.people.models import DetailProposal, DetailSource, PersonalDetail
from apps.verifications.models import VerificationProcess
from apps.verifications.sandbox import sandbox_callback, sandbox_samples
from apps.webhooks.models import Delivery
from tests.factories import make_identity, make_person

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/processes"


def _process(api, provider="onfido", process_type="documentSelfie", **extra):
    body = {"provider": provider, **({"processType": process_type} if process_type else {}), **extra}
    return api.post(URL, body, format="json").json()["processId"]


def test_it_moves_pending_to_processing_on_started(api, callback):
    process_id = _process(api)
    response = callback("onfido", {"processId": process_id, "event": "started"})
    assert response.status_code == 200
    assert response.json() == {"processId": process_id, "status": "processing"}


@pytest.mark.parametrize("signature", ["", "sha256=deadbeef", "md5=abc"])
def test_it_refuses_a_bad_signature_and_changes_nothing(api, callback, signature):
    process_id = _process(api)
    response = callback("onfido", {"processId": process_id, "event": "started"}, signature=signature)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "invalid_signature"
    assert VerificationProcess.objects.get(pk=process_id).status == "pending"


def test_it_refuses_another_providers_secret(api, callback):
    process_id = _process(api)
    assert callback("onfido", {"processId": process_id, "event": "started"}, secret="eid-secret").status_code == 401


def test_it_answers_404_for_an_unknown_process_or_provider(api, callback):
    assert callback("onfido", {"processId": str(uuid.uuid4()), "event": "started"}).status_code == 404
    process_id = _process(api)
    assert callback("eid", {"processId": process_id, "event": "started"}).status_code == 404


def test_it_answers_409_once_final(api, callback):
    process_id = _process(api)
    callback("onfido", {"processId": process_id, "event": "canceled"})
    response = callback("onfido", {"processId": process_id, "event": "started"})
    assert response.status_code == 409
    assert Transition.objects.filter(object_id=process_id).count() == 2  # created, canceled


def test_it_rejects_a_malformed_body(api, callback):
    process_id = _process(api)
    assert callback("onfido", {"processId": process_id, "event": "exploded"}).status_code == 400
    assert callback("onfido", {"processId": "nope", "event": "started"}).status_code == 400
    assert VerificationProcess.objects.get(pk=process_id).status == "pending"


def test_it_keeps_the_fail_reason_of_a_failed_process(api, callback):
    process_id = _process(api)
    reason = {"type": "upload_failed", "message": "Multiple faces"}
    callback("onfido", {"processId": process_id, "event": "failed", "failReason": reason})
    body = api.get(f"{URL}/{process_id}").json()
    assert body["status"] == "failed"
    assert body["failReason"] == reason
    assert "finalResult" not in body


@pytest.mark.parametrize(
    ("provider", "process_type", "sample"),
    [
        ("onfido", "documentSelfie", "accepted"),
        ("eid", "substantial", "accepted"),
        ("readid", "ready", "accepted"),
        ("facetec", None, "accepted"),
        ("signicatpaper", None, "accepted"),
    ],
)
def test_it_maps_each_accepted_seed_example_to_a_normalised_final_result(api, callback, provider, process_type, sample):
    payload = sandbox_samples()[provider][sample]
    process_id = _process(api, provider, sandbox_callback(provider, sample)[3])
    callback(provider, {"processId": process_id, "event": "finished", "providerSpecific": payload["providerSpecific"]})
    body = api.get(f"{URL}/{process_id}").json()
    assert body["status"] == "accepted"
    assert body["providerSpecific"] == payload["providerSpecific"]
    assert body["finalResult"]
    for key in ("dateOfBirth", "dateOfExpiry"):
        if key in body["finalResult"]:
            assert len(body["finalResult"][key]) == 10 and body["finalResult"][key][4] == "-"


def test_it_maps_every_seed_example_to_its_status_through_the_callback(api, callback):
    checked = 0
    for provider, samples in sandbox_samples().items():
        for name, payload in samples.items():
            event, provider_specific, fail_reason, process_type = sandbox_callback(provider, name)
            process_id = _process(api, provider, process_type)
            response = callback(
                provider,
                {
                    "processId": process_id,
                    "event": event,
                    "providerSpecific": provider_specific,
                    "failReason": fail_reason,
                },
            )
            assert response.status_code == 200, (provider, name, response.content)
            assert response.json()["status"] == payload["status"], (provider, name)
            body = api.get(f"{URL}/{process_id}").json()
            assert ("finalResult" in body) == (payload["status"] == "accepted" and bool(body.get("finalResult"))), name
            if payload["status"] != "accepted":
                assert "finalResult" not in body, (provider, name)
            checked += 1
    assert checked >= 15


def test_it_notifies_the_notification_url_on_every_change(api, callback, org):
    process_id = _process(api, notificationUrl="https://example.com/notify")
    callback("onfido", {"processId": process_id, "event": "started"})
    callback("onfido", {"processId": process_id, "event": "canceled"})
    bodies = [d.event.data for d in Delivery.objects.filter(url="https://example.com/notify").order_by("created_at")]
    assert bodies == [
        {"processId": process_id, "status": "processing"},
        {"processId": process_id, "status": "canceled"},
    ]
    assert all(d.endpoint is None for d in Delivery.objects.all())


def test_it_proposes_a_differing_accepted_value_instead_of_replacing_the_persons_detail(api, callback, org):
    identity = make_identity(org, email="maria@example.com")
    person = make_person("maria@example.com", first_name="Mary")
    identity_activate(identity=identity, person=person)
    payload = sandbox_samples()["onfido"]["accepted"]
    process_id = _process(api, identityId=str(identity.pk), process_type=sandbox_callback("onfido", "accepted")[3])
    callback("onfido", {"processId": process_id, "event": "finished", "providerSpecific": payload["providerSpecific"]})

    final = api.get(f"{URL}/{process_id}").json()["finalResult"]
    first_name = PersonalDetail.objects.get(person=person, name="first_name")
    assert (first_name.value, first_name.source) == ("Mary", DetailSource.SELF_DECLARED)
    proposal = DetailProposal.objects.get(person=person, name="first_name")
    assert (proposal.value, proposal.status, proposal.provider) == (final["firstName"], "pending", "onfido")
    assert str(proposal.process_id) == process_id
