"""Onfido end to end against a local Onfido API (tests/verifications/fake_onfido.py): the portal
talks to it through the official SDK, Onfido's signed webhook reaches the portal over HTTP, and
the portal reads the run and its reports back."""

from __future__ import annotations

import json
import time

import pytest
import requests
import urllib3
from django.test import override_settings

from apps.verifications.connectors import onfido as onfido_connector
from apps.verifications.models import ProviderRun, VerificationProcess
from config.celery import app as celery_app
from tests.verifications.fake_onfido import FakeOnfido

pytestmark = pytest.mark.django_db(transaction=True)

WORKFLOW = "8f4a7c2e-0d1b-4f6a-9c3e-2b5d7e9f1a3c"
PROCESSES = "/api/v1/orgs/acme/processes"


@pytest.fixture
def fake():
    with FakeOnfido() as server:
        yield server


@pytest.fixture
def live(live_server, fake):
    fake.webhook_url = f"{live_server.url}/api/v1/providers/onfido/webhook/acme"
    with override_settings(PUBLIC_BASE_URL=live_server.url):
        yield live_server


@pytest.fixture(autouse=True)
def _eager_retries(monkeypatch):
    """Eager tasks retry in place (Celery's apply) instead of raising the Retry out of the request."""
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)


@pytest.fixture(autouse=True)
def _quick_read_retries(monkeypatch):
    monkeypatch.setattr(
        onfido_connector, "READ_RETRIES", urllib3.Retry(total=1, backoff_factor=0, allowed_methods=("GET",))
    )


def _connect(api, fake):
    body = {
        "api_token": fake.api_token,
        "webhook_token": fake.webhook_token,
        "workflow_id": WORKFLOW,
        "api_url": fake.api_url,
    }
    assert api.put("/api/v1/orgs/acme/providers/onfido", body, format="json").status_code == 201


def _create(api, process_type="documentSelfie", **extra):
    response = api.post(PROCESSES, {"provider": "onfido", "processType": process_type, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _run_id(process_id):
    return ProviderRun.objects.get(process_id=process_id).reference


def test_a_process_starts_at_onfido_and_answers_its_hosted_link(api, fake, live):
    _connect(api, fake)
    body = _create(api, redirectUrl="https://example.com/back")
    assert body["status"] == "pending"
    run = fake.state.runs[_run_id(body["processId"])]
    assert body["url"] == run.link.url and body["url"].startswith(fake.base_url + "/hosted/")
    assert str(run.workflow_id) == WORKFLOW
    assert run.customer_user_id == body["processId"]
    assert run.link.completed_redirect_url.startswith(live.url + "/verify/")
    # The SDK sent the organization's token; the applicant carries no personal data.
    assert all(auth == f"Token token={fake.api_token}" for _, _, auth in fake.state.requests)
    applicant = fake.state.applicants[str(run.applicant_id)]
    assert (applicant.first_name, applicant.last_name) == ("Portal", "Applicant")


def test_the_person_completes_the_run_and_the_webhook_finishes_the_process(api, fake, live):
    _connect(api, fake)
    body = _create(api)
    answer = requests.post(
        f"{fake.base_url}/hosted/{_run_id(body['processId'])}/complete", allow_redirects=False, timeout=30
    )
    assert answer.status_code == 303 and answer.headers["Location"].startswith(live.url + "/verify/")
    assert fake.state.webhooks == [200]

    process = api.get(f"{PROCESSES}/{body['processId']}").json()
    assert process["status"] == "accepted"
    assert process["finalResult"] == {
        "firstName": "MARIA PAULA",
        "lastName": "SANTOS MENDES",
        "dateOfExpiry": "2031-07-08",
        "gender": "F",
        "nationality": "PRT",
        "documentType": "identityCard",
        "documentNumber": "1234567890",
        "issuingCountry": "PRT",
        "dateOfBirth": "2002-04-29",
        "similarityScore": "0.93",
    }
    specific = process["providerSpecific"]
    assert specific["documentVerification"]["visualAuthenticity"] == "clear"
    assert specific["facialSimilarity"]["faceComparison"] == "clear"
    raw = VerificationProcess.objects.get(pk=body["processId"]).raw_result
    assert raw["workflowRun"]["id"] == _run_id(body["processId"])
    assert {r["name"] for r in raw["reports"]} == {"document", "facial_similarity_photo"}


def test_a_suspected_document_is_inconclusive(api, fake, live):
    _connect(api, fake)
    body = _create(api, "document")
    fake.complete(_run_id(body["processId"]), outcome="suspected", status="review")
    assert api.get(f"{PROCESSES}/{body['processId']}").json()["status"] == "inconclusive"


def test_an_abandoned_run_is_canceled_and_an_errored_one_failed(api, fake, live):
    _connect(api, fake)
    first, second = _create(api), _create(api)
    fake.complete(_run_id(first["processId"]), status="abandoned")
    fake.complete(_run_id(second["processId"]), status="error")
    assert api.get(f"{PROCESSES}/{first['processId']}").json()["status"] == "canceled"
    failed = api.get(f"{PROCESSES}/{second['processId']}").json()
    assert failed["status"] == "failed"
    assert failed["failReason"] == {"type": "provider_error", "message": "A task of the workflow failed."}


def test_a_bad_signature_is_401_and_changes_nothing(api, client, fake, live):
    _connect(api, fake)
    body = _create(api)
    run_id = _run_id(body["processId"])
    fake.complete(run_id, send=False)
    raw = fake.webhook_body(run_id)
    url = "/api/v1/providers/onfido/webhook/acme"
    for signature in ("", "0" * 64, fake.sign(raw, "another-token")):
        response = client.post(url, raw, content_type="application/json", HTTP_X_SHA2_SIGNATURE=signature)
        assert response.status_code == 401
        assert response.json()["errors"][0]["code"] == "invalid_signature"
    assert VerificationProcess.objects.get(pk=body["processId"]).status == "pending"
    # A tampered body with the right signature of another body: refused too.
    tampered = raw.replace(b"workflow_run.completed", b"workflow_run.completed ")
    response = client.post(url, tampered, content_type="application/json", HTTP_X_SHA2_SIGNATURE=fake.sign(raw))
    assert response.status_code == 401


def test_webhooks_for_unknown_organizations_runs_or_events(api, client, fake, live):
    _connect(api, fake)
    raw = json.dumps(
        {"payload": {"resource_type": "check", "action": "check.completed", "object": {"id": "x"}}}
    ).encode()
    ok = client.post(
        "/api/v1/providers/onfido/webhook/acme",
        raw,
        content_type="application/json",
        HTTP_X_SHA2_SIGNATURE=fake.sign(raw),
    )
    assert ok.status_code == 200 and ok.json() == {"received": True}
    assert (
        client.post("/api/v1/providers/onfido/webhook/nobody", raw, content_type="application/json").status_code == 404
    )
    unknown = json.dumps(
        {"payload": {"resource_type": "workflow_run", "action": "workflow_run.completed", "object": {"id": "nope"}}}
    ).encode()
    response = client.post(
        "/api/v1/providers/onfido/webhook/acme",
        unknown,
        content_type="application/json",
        HTTP_X_SHA2_SIGNATURE=fake.sign(unknown),
    )
    assert response.status_code == 404
    garbage = b"{not json"
    response = client.post(
        "/api/v1/providers/onfido/webhook/acme",
        garbage,
        content_type="application/json",
        HTTP_X_SHA2_SIGNATURE=fake.sign(garbage),
    )
    assert response.status_code == 400


def test_onfido_5xx_when_starting_fails_the_process_with_its_reason(api, fake, live):
    _connect(api, fake)
    fake.state.fail_status = 500
    body = _create(api)
    assert body["status"] == "failed"
    assert body["failReason"]["type"] == "provider_error" and body["failReason"]["status"] == 500
    assert body["url"].startswith(live.url + "/verify/")  # no hosted link: the portal's page says it failed


def test_a_stalled_onfido_fails_the_process_at_the_read_timeout(api, fake, live, monkeypatch):
    """The SDK's calls carry a read timeout (30 s; half a second here): a provider that never
    answers fails the process as unreachable instead of holding the request."""
    monkeypatch.setattr(onfido_connector, "TIMEOUT", urllib3.Timeout(connect=1.0, read=0.5))
    _connect(api, fake)
    fake.state.delay = 2.0
    started = time.monotonic()
    body = _create(api)

    assert time.monotonic() - started < 2.0
    assert body["status"] == "failed"
    assert body["failReason"]["type"] == "provider_unreachable"
    assert "could not be reached" in body["failReason"]["message"]


def test_onfido_5xx_when_reading_back_is_retried_then_fails(api, fake, live):
    _connect(api, fake)
    body = _create(api)
    run_id = _run_id(body["processId"])
    fake.complete(run_id, send=False)
    fake.state.fail_status = 503
    fake.send_webhook(run_id)
    process = api.get(f"{PROCESSES}/{body['processId']}").json()
    assert process["status"] == "failed"
    assert process["failReason"]["status"] == 503
    reads = [path for method, path, _ in fake.state.requests if method == "GET"]
    assert len(reads) >= 6  # every attempt of the task asked again


def test_onfido_recovering_between_retries_finishes_the_process(api, fake, live, monkeypatch):
    _connect(api, fake)
    body = _create(api)
    run_id = _run_id(body["processId"])
    fake.complete(run_id, send=False)
    fake.state.fail_status = 502
    original = onfido_connector.OnfidoConnector.collect
    calls = []

    def flaky(self, process, run):
        calls.append(1)
        if len(calls) == 3:
            fake.state.fail_status = None  # Onfido is back for the third attempt
        return original(self, process, run)

    monkeypatch.setattr(onfido_connector.OnfidoConnector, "collect", flaky)
    fake.send_webhook(run_id)
    assert api.get(f"{PROCESSES}/{body['processId']}").json()["status"] == "accepted"
    assert len(calls) == 3
