"""Redaction (seed 003's redactionRequested; API.md "Verification processes"): the person or their
organization's staff remove a process's personal data; status and timestamps stay."""

from __future__ import annotations

import copy

import pytest
from django.test import Client

from apps.audit.models import Transition
from apps.identities.services import identity_activate
from apps.people.models import DetailProposal, PersonalDetail
from apps.verifications.models import VerificationProcess
from apps.verifications.sandbox import sandbox_samples
from apps.webhooks.models import Delivery, Event
from tests.backoffice.conftest import make_staff
from tests.factories import make_identity, make_person, staff_login

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/processes"
ADMIN = "/admin/verifications/verificationprocess/"


@pytest.fixture
def ana(org):
    identity = make_identity(org, email="ana@example.com")
    person = make_person("ana@example.com", first_name="Ana")
    identity_activate(identity=identity, person=person)
    return person


@pytest.fixture
def finished(api, callback, ana):
    """An accepted Onfido process of Ana's identity, with a raw result and a pending proposal."""
    identity = ana.identities.get()
    process_id = api.post(
        URL,
        {
            "provider": "onfido",
            "processType": "documentSelfie",
            "identityId": str(identity.pk),
            "notificationUrl": "https://example.com/n",
        },
        format="json",
    ).json()["processId"]
    payload = copy.deepcopy(sandbox_samples()["onfido"]["accepted"]["providerSpecific"])
    callback(
        "onfido", {"processId": process_id, "event": "finished", "providerSpecific": payload, "rawResult": {"r": 1}}
    )
    return process_id


def _me(client, person) -> Client:
    client.force_login(person)
    return client


def test_get_process_says_redaction_requested_false_for_every_process(api):
    for body in ({"provider": "facetec"}, {"provider": "readid", "processType": "ready"}, {"provider": "sandbox"}):
        created = api.post(URL, body, format="json").json()
        assert created["redactionRequested"] is False
        assert api.get(f"{URL}/{created['processId']}").json()["redactionRequested"] is False


def test_the_person_redacts_their_own_process_from_me(api, client, ana, finished):
    before = api.get(f"{URL}/{finished}").json()
    assert before["finalResult"] and before["providerSpecific"]
    assert DetailProposal.objects.filter(process_id=finished, status="pending").exists()
    deliveries = Delivery.objects.count()
    client = _me(client, ana)

    me = client.get("/me/").content.decode()
    assert f"/me/verifications/{finished}/redact/" in me
    page = client.get(f"/me/verifications/{finished}/redact/")
    assert page.status_code == 200 and "Remove the personal data" in page.content.decode()
    response = client.post(f"/me/verifications/{finished}/redact/")
    assert response.status_code == 302

    after = api.get(f"{URL}/{finished}").json()
    assert after["redactionRequested"] is True
    assert after["providerSpecific"] == {}
    assert "finalResult" not in after
    for kept in ("status", "createdAt", "updatedAt", "provider", "processType", "processId"):
        assert after[kept] == before[kept]
    process = VerificationProcess.objects.get(pk=finished)
    assert (process.provider_specific, process.final_result, process.raw_result) == (None, None, None)
    # Audited, with who and why; no event and no notification: no state changed.
    row = Transition.objects.get(object_id=finished, event_type="process.redacted")
    assert (row.from_state, row.to_state, row.actor_id) == ("accepted", "accepted", str(ana.pk))
    assert row.reason == "redaction requested by the person"
    assert row.published_at is not None
    assert not Event.objects.filter(transition=row).exists()
    assert Delivery.objects.count() == deliveries
    # What the process proposed and Ana did not answer is withdrawn, values gone.
    assert not DetailProposal.objects.filter(process_id=finished, status="pending").exists()
    assert set(DetailProposal.objects.filter(process_id=finished).values_list("value", flat=True)) == {""}
    assert "Personal data removed" in client.get("/me/").content.decode()


def test_the_full_result_of_a_redacted_process_is_gone(api, client, ana, finished):
    assert api.get(f"{URL}/{finished}/fullresult").status_code == 200
    _me(client, ana).post(f"/me/verifications/{finished}/redact/")
    response = api.get(f"{URL}/{finished}/fullresult")
    assert response.status_code == 410
    assert response.json()["errors"][0]["code"] == "gone"


def test_a_second_redaction_changes_nothing(client, ana, finished):
    client = _me(client, ana)
    client.post(f"/me/verifications/{finished}/redact/")
    client.post(f"/me/verifications/{finished}/redact/")
    assert Transition.objects.filter(object_id=finished, event_type="process.redacted").count() == 1


def test_another_person_cannot_redact_or_see_the_process(client, finished):
    mallory = make_person("mallory@example.com")
    client = _me(client, mallory)
    assert client.get(f"/me/verifications/{finished}/redact/").status_code == 404
    assert client.post(f"/me/verifications/{finished}/redact/").status_code == 404
    assert not VerificationProcess.objects.get(pk=finished).redaction_requested
    assert finished not in client.get("/me/").content.decode()


def test_redaction_from_me_needs_a_signed_in_person_and_csrf(ana, finished):
    anonymous = Client()
    assert anonymous.post(f"/me/verifications/{finished}/redact/").status_code == 302  # to sign-in
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(ana)
    assert checked.post(f"/me/verifications/{finished}/redact/").status_code == 403
    assert not VerificationProcess.objects.get(pk=finished).redaction_requested


def test_later_callbacks_move_the_status_but_keep_no_personal_data(api, callback, client, ana):
    identity = ana.identities.get()
    process_id = api.post(
        URL, {"provider": "onfido", "processType": "documentSelfie", "identityId": str(identity.pk)}, format="json"
    ).json()["processId"]
    callback(
        "onfido",
        {"processId": process_id, "event": "started", "providerSpecific": {"documentVerification": {"firstName": "X"}}},
    )
    _me(client, ana).post(f"/me/verifications/{process_id}/redact/")

    payload = sandbox_samples()["onfido"]["accepted"]["providerSpecific"]
    callback(
        "onfido", {"processId": process_id, "event": "finished", "providerSpecific": payload, "rawResult": {"r": 1}}
    )
    body = api.get(f"{URL}/{process_id}").json()
    assert (body["status"], body["redactionRequested"], body["providerSpecific"]) == ("accepted", True, {})
    assert "finalResult" not in body
    assert VerificationProcess.objects.get(pk=process_id).raw_result is None
    assert not DetailProposal.objects.filter(process_id=process_id).exists()
    assert PersonalDetail.objects.get(person=ana, name="first_name").value == "Ana"


def test_an_operator_redacts_with_a_reason_from_the_back_office(org, finished):
    operator = make_staff("operator@example.com", "operator", org)
    client = Client()
    staff_login(client, operator)
    changelist = client.get(ADMIN).content.decode()
    assert "redact_with_reason" in changelist

    asked = client.post(ADMIN, {"action": "redact_with_reason", "_selected_action": [finished]})
    assert asked.status_code == 200 and "reason" in asked.content.decode()
    client.post(
        ADMIN,
        {
            "action": "redact_with_reason",
            "_selected_action": [finished],
            "apply": "1",
            "reason": "GDPR art. 17 request #12",
        },
    )

    process = VerificationProcess.objects.get(pk=finished)
    assert process.redaction_requested and process.final_result is None
    row = Transition.objects.get(object_id=finished, event_type="process.redacted")
    assert (row.actor_id, row.reason) == (str(operator.pk), "redacted by staff: GDPR art. 17 request #12")
    page = client.get(f"{ADMIN}{finished}/change/").content.decode()
    assert "Redacted: the personal data is gone." in page
    assert client.get(f"{ADMIN}{finished}/fullresult/").status_code == 410


def test_a_viewer_cannot_redact(org, finished):
    viewer = make_staff("viewer@example.com", "viewer", org)
    client = Client()
    staff_login(client, viewer)
    assert "redact_with_reason" not in client.get(ADMIN).content.decode()
    client.post(ADMIN, {"action": "redact_with_reason", "_selected_action": [finished], "apply": "1", "reason": "x"})
    assert not VerificationProcess.objects.get(pk=finished).redaction_requested


def test_another_organizations_operator_cannot_redact(other_org, finished):
    operator = make_staff("elsewhere@example.com", "operator", other_org)
    client = Client()
    staff_login(client, operator)
    client.post(ADMIN, {"action": "redact_with_reason", "_selected_action": [finished], "apply": "1", "reason": "x"})
    assert not VerificationProcess.objects.get(pk=finished).redaction_requested
    assert client.get(f"{ADMIN}{finished}/change/").status_code in (302, 404)
