from __future__ import annotations

import io
import zipfile

import pytest

from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_create, process_replay_sample
from tests.factories import make_person, staff_login

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    admin = make_person("staff@example.com")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    staff_login(client, admin)
    return client


def _process(org, sample=None):
    process = process_create(
        organization=org, provider="onfido", process_type="documentSelfie", actor=Actor.system("test")
    )
    if sample:
        process = process_replay_sample(
            process=process, provider="onfido", sample=sample, actor=Actor.provider("onfido")
        )
    return process


def test_it_lists_and_filters_processes(staff_client, org):
    _process(org)
    _process(org, "rejected")
    response = staff_client.get("/admin/verifications/verificationprocess/", {"status__exact": "rejected"})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_it_offers_cancel_only_while_open_and_logs_it(staff_client, org):
    open_process = _process(org)
    page = staff_client.get(f"/admin/verifications/verificationprocess/{open_process.pk}/change/")
    assert b'value="cancel"' in page.content
    prefix = "audit-transition-content_type-object_id"
    management = {f"{prefix}-TOTAL_FORMS": "1", f"{prefix}-INITIAL_FORMS": "1", f"{prefix}-MAX_NUM_FORMS": "0"}
    response = staff_client.post(
        f"/admin/verifications/verificationprocess/{open_process.pk}/change/",
        {**management, "_fsm_transition_to": "cancel"},
    )
    # Canceling asks for a reason first.
    assert response.status_code == 302
    assert VerificationProcess.objects.get(pk=open_process.pk).status == "pending"
    staff_client.post(response["Location"], {"reason": "duplicate request"})
    assert VerificationProcess.objects.get(pk=open_process.pk).status == "canceled"
    row = Transition.objects.get(object_id=str(open_process.pk), to_state="canceled")
    assert (row.actor_type, row.reason) == ("user", "duplicate request")

    final = _process(org, "accepted")
    page = staff_client.get(f"/admin/verifications/verificationprocess/{final.pk}/change/")
    assert b'value="cancel"' not in page.content
    assert b"firstName" in page.content  # the final result, as a readable JSON block


def test_it_downloads_the_full_result_of_a_final_process(staff_client, org):
    final = _process(org, "accepted")
    response = staff_client.get(f"/admin/verifications/verificationprocess/{final.pk}/fullresult/")
    assert response.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(response.content)).namelist() == ["process.json", "provider-result.json"]
    open_process = _process(org)
    assert (
        staff_client.get(f"/admin/verifications/verificationprocess/{open_process.pk}/fullresult/").status_code == 409
    )
