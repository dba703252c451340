"""Issue 15: the sandbox exists only where SANDBOX_ENABLED, and its results never verify anyone.

API.md "Pages": "The sandbox provider exists only where SANDBOX_ENABLED=true (default true in local
and test settings, false in production: creating a sandbox process then answers 400). A sandbox
result is labelled as such and never becomes a verified personal detail."
"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from apps.activities.models import Activity, ActivityType
from apps.activities.selectors import activity_bioface_accepted
from apps.activities.services import activity_create
from apps.audit.services import Actor
from apps.identities.services import identity_activate
from apps.people.models import DetailProposal, DetailSource, PersonalDetail
from apps.verifications.links import process_url
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_create, process_sandbox_choose
from tests.factories import make_identity, make_person, staff_login

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/processes"


def _page(process: VerificationProcess) -> str:
    return process_url(process).replace("http://testserver", "")


def _sandbox(org, **kwargs) -> VerificationProcess:
    return process_create(organization=org, provider="sandbox", process_type=None, actor=Actor.system("t"), **kwargs)


def _ana(org):
    identity = make_identity(org, email="ana@example.com")
    person = make_person("ana@example.com", first_name="Ana", last_name="García", date_of_birth="2002-04-29")
    identity_activate(identity=identity, person=person)
    return identity, person


def test_it_answers_400_on_the_provider_field_for_a_sandbox_process_where_the_sandbox_is_off(api, settings):
    settings.SANDBOX_ENABLED = False
    response = api.post(URL, {"provider": "sandbox"}, format="json")
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["field"] == "provider"
    assert "sandbox" in error["message"].lower()
    assert not VerificationProcess.objects.exists()


def test_it_still_creates_real_providers_processes_where_the_sandbox_is_off(api, settings):
    settings.SANDBOX_ENABLED = False
    assert api.post(URL, {"provider": "facetec"}, format="json").status_code == 201


def test_the_sandbox_page_of_an_earlier_process_answers_404_once_the_sandbox_is_off(client, org, settings):
    process = _sandbox(org)
    settings.SANDBOX_ENABLED = False
    assert client.get(_page(process)).status_code == 404
    assert client.post(_page(process), {"outcome": "onfido/accepted"}).status_code == 404
    assert VerificationProcess.objects.get(pk=process.pk).status == "pending"
    with pytest.raises(ValidationError):
        process_sandbox_choose(process=process, provider="onfido", sample="accepted")


def test_the_sandbox_callback_answers_404_once_the_sandbox_is_off(org, callback, settings):
    process = _sandbox(org)
    settings.SANDBOX_ENABLED = False
    response = callback("sandbox", {"processId": str(process.pk), "event": "started"})
    assert response.status_code == 404
    assert VerificationProcess.objects.get(pk=process.pk).status == "pending"


def test_a_sandbox_result_never_becomes_a_verified_detail_nor_a_proposal(client, org):
    identity, ana = _ana(org)
    process = _sandbox(org, identity=identity)
    # The seed's Onfido document has the same date of birth as Ana's: even an equal value stays unverified.
    response = client.post(_page(process), {"outcome": "onfido/accepted"})
    assert response.status_code == 302

    process = VerificationProcess.objects.get(pk=process.pk)
    assert (process.status, process.final_result["firstName"]) == ("accepted", "MARIA PAULA")
    details = {d.name: (d.value, d.source) for d in PersonalDetail.objects.filter(person=ana)}
    assert details == {
        "first_name": ("Ana", DetailSource.SELF_DECLARED),
        "last_name": ("García", DetailSource.SELF_DECLARED),
        "date_of_birth": ("2002-04-29", DetailSource.SELF_DECLARED),
    }
    assert not DetailProposal.objects.exists()


def test_the_sandbox_is_labelled_for_the_integrator_the_person_and_staff(api, client, org):
    identity, ana = _ana(org)
    process = _sandbox(org, identity=identity)
    client.post(_page(process), {"outcome": "readid/accepted"})

    assert api.get(f"{URL}/{process.pk}").json()["provider"] == "sandbox"
    client.force_login(ana)
    me = client.get("/me/").content.decode()
    assert "Sandbox: test data, never verifies your details" in me
    staff = make_person("root@example.com")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    staff_login(client, staff)
    page = client.get(f"/admin/verifications/verificationprocess/{process.pk}/change/").content.decode()
    assert "sandbox (test data, replaying readid; never verifies a person)" in page


def _face_check_activity(org, receptor) -> Activity:
    """An AT_004 authorization that asks `receptor` for a BioFace check."""
    olga = make_identity(org, email="olga@example.com", managed=True)
    identity_activate(identity=olga, person=make_person("olga@example.com"))
    return activity_create(
        organization=org,
        type=ActivityType.AUTHORIZATION,
        initiator_id=olga.pk,
        receptor_id=receptor.pk,
        authorization={"description": "Transfer", "requires_bioface": True},
        actor=Actor.system("t"),
    )


def test_a_face_check_offers_only_face_outcomes(client, org):
    identity, ana = _ana(org)
    activity = _face_check_activity(org, identity)
    process = _sandbox(org, identity=identity, activity=activity)

    page = client.get(_page(process)).content.decode()
    assert "FaceTec: accepted" in page
    assert "Onfido" not in page and "Signicat" not in page
    # A document's outcome cannot be forced through the form ...
    assert client.post(_page(process), {"outcome": "onfido/accepted"}).status_code == 400
    # ... nor through the service.
    with pytest.raises(ValidationError):
        process_sandbox_choose(process=process, provider="onfido", sample="accepted")
    assert VerificationProcess.objects.get(pk=process.pk).status == "pending"
    assert not DetailProposal.objects.exists()

    assert client.post(_page(process), {"outcome": "facetec/accepted"}).status_code == 302
    assert activity_bioface_accepted(activity=Activity.objects.get(pk=activity.pk))
    assert PersonalDetail.objects.get(person=ana, name="first_name").value == "Ana"
    # The person's consent page says the passed face check was test data.
    client.force_login(ana)
    consent = client.get(f"/me/activities/{activity.pk}/").content.decode()
    assert 'data-sandbox="true"' in consent and "Test data" in consent


def test_a_sandbox_face_check_does_not_count_where_the_sandbox_is_off(org, settings):
    identity, _ = _ana(org)
    activity = _face_check_activity(org, identity)
    process_sandbox_choose(
        process=_sandbox(org, identity=identity, activity=activity), provider="facetec", sample="accepted"
    )
    assert activity_bioface_accepted(activity=activity)
    settings.SANDBOX_ENABLED = False
    assert not activity_bioface_accepted(activity=activity)


def test_the_bioface_provider_cannot_point_to_the_sandbox_where_the_sandbox_is_off(settings):
    settings.SANDBOX_ENABLED = False
    settings.ACTIVITIES_BIOFACE_PROVIDER = "sandbox"
    with pytest.raises(SystemCheckError, match=r"verifications\.E001"):
        call_command("check")
    settings.ACTIVITIES_BIOFACE_PROVIDER = "facetec"
    call_command("check")
