from __future__ import annotations

import io
import json
import uuid
import zipfile

import pytest
import time_machine
from django.utils import timezone

from apps.audit.models import Transition
from apps.verifications.models import VerificationProcess
from apps.verifications.sandbox import sandbox_samples
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/processes"


def _create(api, **body):
    return api.post(URL, {"provider": "onfido", "processType": "documentSelfie", **body}, format="json")


def test_it_creates_a_pending_process_with_a_hosted_url(api):
    response = _create(api, notificationUrl="https://example.com/n", redirectUrl="https://example.com/back")
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "pending"
    assert body["provider"] == "onfido"
    assert body["processType"] == "documentSelfie"
    assert body["url"].startswith("http://testserver/verify/")
    assert {"processId", "createdAt", "updatedAt"} <= body.keys()
    assert "finalResult" not in body and "failReason" not in body
    process = VerificationProcess.objects.get(pk=body["processId"])
    assert Transition.objects.filter(object_id=str(process.pk), to_state="pending").count() == 1


@pytest.mark.parametrize(
    ("provider", "process_type"),
    [
        ("onfido", "document"),
        ("onfido", "documentVideo"),
        ("eid", "attended"),
        ("eid", "unattended"),
        ("eid", "substantial"),
        ("readid", "ready"),
        ("facetec", None),
        ("signicatpaper", None),
        ("connect", None),
        ("connect:idin", None),
        ("sandbox", None),
    ],
)
def test_it_accepts_every_provider_and_process_type_of_the_seed(api, provider, process_type):
    body = {"provider": provider} | ({"processType": process_type} if process_type else {})
    assert api.post(URL, body, format="json").status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"provider": "nope"}, "provider"),
        ({"provider": "onfido"}, "processType"),
        ({"provider": "onfido", "processType": "ready"}, "processType"),
        ({"provider": "facetec", "processType": "document"}, "processType"),
        ({"provider": "eid:x", "processType": "attended"}, "provider"),
        ({"provider": "connect:"}, "provider"),
        ({"provider": "facetec", "status": "accepted"}, "status"),
        ({"provider": "facetec", "notificationUrl": "ftp://x"}, "notificationUrl"),
        ({"provider": "facetec", "identityId": str(uuid.uuid4())}, "identityId"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(api, body, field):
    response = api.post(URL, body, format="json")
    assert response.status_code == 400
    assert field in {e.get("field") for e in response.json()["errors"]}
    assert not VerificationProcess.objects.exists()


def test_it_hides_other_organizations_processes(api, outsider_api, org):
    process_id = _create(api).json()["processId"]
    assert outsider_api.get(f"/api/v1/orgs/globex/processes/{process_id}").status_code == 404
    assert outsider_api.get(f"{URL}/{process_id}").status_code == 404
    no_scope = make_api_key(org, ["identities"])
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {no_scope}")
    assert api.get(f"{URL}/{process_id}").status_code == 403


def test_it_cancels_an_open_process_and_refuses_a_final_one(api):
    process_id = _create(api).json()["processId"]
    response = api.post(f"{URL}/{process_id}/cancel")
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"
    again = api.post(f"{URL}/{process_id}/cancel")
    assert again.status_code == 409
    assert again.json()["errors"][0]["code"] == "state_conflict"


def test_it_serves_the_full_result_zip_only_when_final(api, callback):
    process_id = _create(api).json()["processId"]
    assert api.get(f"{URL}/{process_id}/fullresult").status_code == 409
    sample = sandbox_samples()["onfido"]["accepted"]
    callback("onfido", {"processId": process_id, "event": "finished", "providerSpecific": sample["providerSpecific"]})
    response = api.get(f"{URL}/{process_id}/fullresult")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["process.json", "provider-result.json"]
    assert json.loads(archive.read("process.json"))["status"] == "accepted"
    raw = json.loads(archive.read("provider-result.json"))
    assert raw["providerSpecific"] == sample["providerSpecific"]


def test_it_fails_an_overdue_process_with_reason_timeout_on_read(api, settings):
    process_id = _create(api).json()["processId"]
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=settings.VERIFICATION_TIMEOUT_SECONDS + 1)):
        body = api.get(f"{URL}/{process_id}").json()
    assert body["status"] == "failed"
    assert body["failReason"]["type"] == "timeout"


def test_it_fails_overdue_processes_in_the_sweep_once(api, settings):
    from apps.verifications.services import processes_fail_overdue

    open_id = _create(api).json()["processId"]
    with time_machine.travel(timezone.now() + timezone.timedelta(seconds=settings.VERIFICATION_TIMEOUT_SECONDS + 1)):
        fresh_id = _create(api).json()["processId"]
        assert processes_fail_overdue() == 1
        assert processes_fail_overdue() == 0
    assert VerificationProcess.objects.get(pk=open_id).status == "failed"
    assert VerificationProcess.objects.get(pk=fresh_id).status == "pending"
    assert Transition.objects.filter(object_id=open_id, to_state="failed").count() == 1


def test_it_lists_processes_filtered_by_status(api):
    first = _create(api).json()["processId"]
    _create(api)
    api.post(f"{URL}/{first}/cancel")
    body = api.get(URL, {"status": "canceled"}).json()
    assert [p["processId"] for p in body["results"]] == [first]
    assert api.get(URL, {"status": "bogus"}).status_code == 400


def test_it_refuses_a_notification_url_pointing_inside_the_network(api, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    for url in ("http://10.0.0.8/hook", "http://169.254.169.254/latest/meta-data", "http://localhost:8000/n"):
        response = _create(api, notificationUrl=url)
        assert response.status_code == 400, url
        assert response.json()["errors"][0]["field"] == "notificationUrl"
    assert not VerificationProcess.objects.exists()
