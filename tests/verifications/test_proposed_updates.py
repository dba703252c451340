"""Proposed updates (issue 15; API.md "Pages"): "A verified result never silently replaces a
person's detail: a value that differs from the one the person has is shown on /me/ as a proposed
update (before / after, source), and replaces it only when the person confirms."
"""

from __future__ import annotations

import copy
import uuid

import pytest
from django.test import Client

from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.identities.services import identity_activate
from apps.people.models import DetailProposal, DetailSource, PersonalDetail
from apps.people.services import person_details_propose
from apps.portal.services import person_delete
from apps.verifications.sandbox import sandbox_samples
from apps.webhooks.models import Event
from tests.backoffice.conftest import make_staff
from tests.factories import make_identity, make_person, staff_login

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/processes"


@pytest.fixture
def ana(org):
    identity = make_identity(org, email="ana@example.com")
    person = make_person("ana@example.com", first_name="Ana", last_name="García", date_of_birth="2002-04-29")
    identity_activate(identity=identity, person=person)
    return person


def _verify(api, callback, person, provider="onfido", sample="accepted", process_type="documentSelfie", **document):
    """A real provider's accepted result for the person's identity, through the signed callback."""
    identity = person.identities.get()
    body = {
        "provider": provider,
        "identityId": str(identity.pk),
        **({"processType": process_type} if process_type else {}),
    }
    process_id = api.post(URL, body, format="json").json()["processId"]
    payload = copy.deepcopy(sandbox_samples()[provider][sample]["providerSpecific"])
    if document:
        payload["documentVerification"].update(document)
    response = callback(provider, {"processId": process_id, "event": "finished", "providerSpecific": payload})
    assert response.json()["status"] == "accepted"
    return process_id


def _details(person) -> dict[str, tuple[str, str]]:
    return {d.name: (d.value, d.source) for d in PersonalDetail.objects.filter(person=person)}


def _pending(person) -> dict[str, str]:
    return {p.name: p.value for p in DetailProposal.objects.filter(person=person, status="pending")}


def _signed_in(person) -> Client:
    client = Client()
    client.force_login(person)
    return client


# --- What a verification does to the person's details ----------------------------------------


def test_seed_rule_a_differing_verified_value_waits_as_a_proposal_and_the_persons_value_stays(api, callback, ana):
    _verify(api, callback, ana, firstName="Ana María")
    assert _details(ana)["first_name"] == ("Ana", DetailSource.SELF_DECLARED)
    assert _pending(ana)["first_name"] == "Ana María"


def test_a_detail_the_person_does_not_have_yet_is_proposed_too(api, callback, ana):
    _verify(api, callback, ana)
    assert "document_number" not in _details(ana)
    assert _pending(ana)["document_number"] == "1234567890"


def test_an_equal_value_only_gains_the_verified_provenance_in_the_persons_spelling(api, callback, ana):
    process_id = _verify(api, callback, ana, firstName="ANA", lastName="GARCÍA")
    first = PersonalDetail.objects.get(person=ana, name="first_name")
    assert (first.value, first.source, first.verified_by_provider) == ("Ana", DetailSource.VERIFIED, "onfido")
    assert str(first.verified_by_process_id) == process_id
    assert _details(ana)["last_name"] == ("García", DetailSource.VERIFIED)
    assert _details(ana)["date_of_birth"] == ("2002-04-29", DetailSource.VERIFIED)  # the seed's own date
    assert "first_name" not in _pending(ana) and "last_name" not in _pending(ana)


def test_a_verified_detail_is_not_replaced_by_a_later_verification_either(api, callback, ana):
    _verify(api, callback, ana, firstName="ANA")
    assert _details(ana)["first_name"] == ("Ana", DetailSource.VERIFIED)
    _verify(api, callback, ana, firstName="Anna")
    assert _details(ana)["first_name"] == ("Ana", DetailSource.VERIFIED)
    assert _pending(ana)["first_name"] == "Anna"


def test_a_newer_verification_withdraws_the_older_proposal_for_the_same_detail(api, callback, ana):
    first = _verify(api, callback, ana, firstName="Anne")
    second = _verify(api, callback, ana, firstName="Anna")
    older = DetailProposal.objects.get(process_id=first, name="first_name")
    assert (older.status, older.value) == ("withdrawn", "")
    assert DetailProposal.objects.get(process_id=second, name="first_name").status == "pending"
    assert _pending(ana)["first_name"] == "Anna"


def test_a_face_only_check_never_touches_names_or_proposes_anything(api, callback, ana):
    _verify(api, callback, ana, provider="facetec", process_type=None)
    assert _details(ana)["first_name"] == ("Ana", DetailSource.SELF_DECLARED)
    assert not DetailProposal.objects.exists()


def test_values_the_vocabulary_cannot_hold_are_left_out(ana):
    person_details_propose(
        person=ana,
        values={"gender": "1", "first_name": "VJ"},  # Connect's values are not normalised
        process_id=str(uuid.uuid4()),
        provider="connect:idin",
        actor=Actor.provider("connect"),
    )
    assert _pending(ana) == {"first_name": "VJ"}


def test_proposals_hold_encrypted_values(api, callback, ana):
    from django.db import connection

    _verify(api, callback, ana, firstName="Zebulon")
    with connection.cursor() as cursor:
        cursor.execute("SELECT value FROM people_detailproposal WHERE name = 'first_name'")
        (stored,) = cursor.fetchone()
    assert "Zebulon" not in stored


# --- The person's page -----------------------------------------------------------------------


def test_me_shows_each_proposed_update_with_before_after_and_source(api, callback, ana, org):
    process_id = _verify(api, callback, ana, firstName="Ana María")
    page = _signed_in(ana).get("/me/").content.decode()
    assert "Proposed updates to your details" in page
    section = page[page.index('id="proposals"') : page.index('aria-labelledby="sharing-heading"')]
    assert "Ana María" in section and ">Ana<" in section  # after and before
    assert "Verified by Onfido for Acme Bank on" in section
    assert process_id not in section  # the source is named, never its id
    assert "Not given yet" in section  # the document's details she does not have
    assert section.count('name="csrfmiddlewaretoken"') == len(_pending(ana))


def test_me_shows_the_section_in_spanish(api, callback, ana):
    _verify(api, callback, ana, firstName="Ana María")
    client = _signed_in(ana)
    page = client.get("/me/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Cambios propuestos en tus datos" in page
    assert "Verificado por Onfido para Acme Bank el" in page
    assert "Revisar y confirmar" in page


def test_no_section_without_proposals(ana):
    assert "Proposed updates to your details" not in _signed_in(ana).get("/me/").content.decode()


def test_confirming_is_a_step_of_its_own_then_the_value_becomes_verified_with_provenance(api, callback, ana):
    process_id = _verify(api, callback, ana, firstName="Ana María")
    proposal = DetailProposal.objects.get(person=ana, name="first_name")
    client = _signed_in(ana)

    page = client.get(f"/me/proposals/{proposal.pk}/confirm/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Ana María" in text and ">Ana<" in text and "Yes, replace it" in text
    assert _details(ana)["first_name"] == ("Ana", DetailSource.SELF_DECLARED)  # looking changes nothing

    response = client.post(f"/me/proposals/{proposal.pk}/confirm/")
    assert response.status_code == 302
    detail = PersonalDetail.objects.get(person=ana, name="first_name")
    assert (detail.value, detail.source, detail.verified_by_provider) == ("Ana María", DetailSource.VERIFIED, "onfido")
    assert str(detail.verified_by_process_id) == process_id
    proposal.refresh_from_db()
    assert (proposal.status, proposal.value) == ("confirmed", "")
    # Audited with the person as actor; the person's own business, no organization's event.
    row = Transition.objects.get(object_id=str(proposal.pk), to_state="confirmed")
    assert (row.actor_id, row.from_state, row.organization_id) == (str(ana.pk), "pending", None)
    assert "Ana María" not in str(row.data)
    assert not Event.objects.filter(transition__object_id=str(proposal.pk)).exists()
    assert "first_name" not in _pending(ana)


def test_dismissing_keeps_the_persons_value_and_forgets_the_proposed_one(api, callback, ana):
    _verify(api, callback, ana, firstName="Ana María")
    proposal = DetailProposal.objects.get(person=ana, name="first_name")
    response = _signed_in(ana).post(f"/me/proposals/{proposal.pk}/dismiss/")
    assert response.status_code == 302
    assert _details(ana)["first_name"] == ("Ana", DetailSource.SELF_DECLARED)
    proposal.refresh_from_db()
    assert (proposal.status, proposal.value) == ("dismissed", "")
    assert Transition.objects.filter(object_id=str(proposal.pk), to_state="dismissed").exists()


def test_a_decided_proposal_cannot_be_confirmed_again(api, callback, ana):
    _verify(api, callback, ana, firstName="Ana María")
    proposal = DetailProposal.objects.get(person=ana, name="first_name")
    client = _signed_in(ana)
    client.post(f"/me/proposals/{proposal.pk}/dismiss/")
    assert client.post(f"/me/proposals/{proposal.pk}/confirm/").status_code == 409
    assert client.post(f"/me/proposals/{proposal.pk}/dismiss/").status_code == 409
    assert _details(ana)["first_name"] == ("Ana", DetailSource.SELF_DECLARED)


def test_another_person_cannot_see_confirm_or_dismiss_a_proposal(api, callback, ana):
    _verify(api, callback, ana, firstName="Ana María")
    proposal = DetailProposal.objects.get(person=ana, name="first_name")
    mallory = _signed_in(make_person("mallory@example.com"))
    assert mallory.get(f"/me/proposals/{proposal.pk}/confirm/").status_code == 404
    assert mallory.post(f"/me/proposals/{proposal.pk}/confirm/").status_code == 404
    assert mallory.post(f"/me/proposals/{proposal.pk}/dismiss/").status_code == 404
    assert "Ana María" not in mallory.get("/me/").content.decode()
    assert DetailProposal.objects.get(pk=proposal.pk).status == "pending"


def test_confirming_needs_csrf_and_a_signed_in_person(api, callback, ana):
    _verify(api, callback, ana, firstName="Ana María")
    proposal = DetailProposal.objects.get(person=ana, name="first_name")
    assert Client().post(f"/me/proposals/{proposal.pk}/confirm/").status_code == 302  # to sign-in
    checked = Client(enforce_csrf_checks=True)
    checked.force_login(ana)
    assert checked.post(f"/me/proposals/{proposal.pk}/confirm/").status_code == 403
    assert DetailProposal.objects.get(pk=proposal.pk).status == "pending"


def test_staff_never_see_proposals(api, callback, ana, org):
    _verify(api, callback, ana, firstName="Zebulon")
    for staff in (
        make_staff("admin@example.com", "administrator", org),
        make_staff("root@example.com", None, superuser=True),
    ):
        client = staff_login(Client(), staff)
        assert client.get("/admin/people/detailproposal/").status_code == 404
        page = client.get(f"/admin/people/user/{ana.pk}/change/")
        assert "Zebulon" not in page.content.decode()


def test_account_deletion_purges_the_proposals(api, callback, ana):
    _verify(api, callback, ana, firstName="Ana María")
    assert DetailProposal.objects.filter(person=ana).exists()
    counts = person_delete(person=ana)
    assert counts["proposals"] >= 1
    assert not DetailProposal.objects.exists()
