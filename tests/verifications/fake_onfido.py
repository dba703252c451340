"""A local Onfido API on 127.0.0.1 for tests: a real HTTP server (a thread) answering the paths the
portal's connector calls with the request and response shapes of the official SDK's own models
(onfido.models), plus the hosted page a person completes. Completing a run sends Onfido's signed
`workflow_run.completed` webhook to the portal, as Onfido does.

    with FakeOnfido(webhook_token="wh") as fake:
        PUT .../providers/onfido {"api_url": fake.api_url, ...}
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import onfido
import requests
from onfido import models as m

API = "/v3.6"
_CLIENT = onfido.ApiClient()


def _json(model: Any) -> Any:
    return _CLIENT.sanitize_for_serialization(model)


def document_report(outcome: str) -> m.DocumentReport:
    """A document report as Onfido writes it; `outcome`: clear, suspected or rejected."""
    sub_result = {"clear": "clear", "suspected": "suspected", "rejected": "rejected"}[outcome]
    result = "clear" if outcome == "clear" else "consider"
    visual = "clear" if outcome == "clear" else "consider"
    return m.DocumentReport(
        id=uuid.uuid4(),
        name=m.ReportName.DOCUMENT,
        status=m.ReportStatus.COMPLETE,
        result=m.ReportResult(result),
        sub_result=m.ReportSubResult(sub_result),
        breakdown=m.DocumentBreakdown(
            image_integrity=m.DocumentBreakdownImageIntegrity(result="clear"),
            visual_authenticity=m.DocumentBreakdownVisualAuthenticity(result=visual),
            data_validation=m.DocumentBreakdownDataValidation(result="clear"),
            data_consistency=m.DocumentBreakdownDataConsistency(result="clear"),
            age_validation=m.DocumentBreakdownAgeValidation(result="clear"),
        ),
        properties=m.DocumentProperties(
            first_name="MARIA PAULA",
            last_name="SANTOS MENDES",
            date_of_birth="2002-04-29",
            date_of_expiry="2031-07-08",
            gender="Female",
            nationality="PRT",
            issuing_country="PRT",
            document_type="national_identity_card",
            document_numbers=[m.DocumentPropertiesDocumentNumbersInner(type="document_number", value="1234567890")],
        ),
    )


def face_report() -> m.FacialSimilarityPhotoReport:
    return m.FacialSimilarityPhotoReport(
        id=uuid.uuid4(),
        name=m.ReportName.FACIAL_SIMILARITY_PHOTO,
        status=m.ReportStatus.COMPLETE,
        result=m.ReportResult.CLEAR,
        breakdown=m.FacialSimilarityPhotoBreakdown(
            face_comparison=m.FacialSimilarityPhotoBreakdownFaceComparison(result="clear"),
            image_integrity=m.FacialSimilarityPhotoBreakdownImageIntegrity(result="clear"),
            visual_authenticity=m.FacialSimilarityPhotoBreakdownVisualAuthenticity(result="clear"),
        ),
        properties=m.FacialSimilarityPhotoProperties(score=0.93),
    )


@dataclass
class _State:
    applicants: dict[str, m.Applicant] = field(default_factory=dict)
    runs: dict[str, m.WorkflowRun] = field(default_factory=dict)
    checks: dict[str, list[m.Check]] = field(default_factory=dict)  # applicant id → checks
    reports: dict[str, list[Any]] = field(default_factory=dict)  # check id → reports
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # method, path, Authorization
    fail_status: int | None = None  # every API call answers this error status
    delay: float = 0.0  # seconds every API call waits before answering (a stalled provider)
    outcome: str = "clear"
    webhooks: list[int] = field(default_factory=list)  # the portal's answers to the webhooks sent


class FakeOnfido:
    def __init__(self, *, api_token: str = "api_test_token", webhook_token: str = "webhook-token") -> None:
        self.api_token = api_token
        self.webhook_token = webhook_token
        self.webhook_url = ""
        self.state = _State()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                fake._handle(self, "GET")

            def do_POST(self) -> None:
                fake._handle(self, "POST")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.api_url = self.base_url + API
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FakeOnfido:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what a person does on the hosted page, and Onfido after it --------------------------

    def complete(
        self, run_id: str, *, outcome: str | None = None, status: str = "approved", send: bool = True
    ) -> int | None:
        """The person finished the run: its check and reports exist; the signed webhook goes out.
        Answers the portal's HTTP status for the webhook (None when no webhook_url is set)."""
        run = self.state.runs[run_id]
        outcome = outcome or self.state.outcome
        if status in ("approved", "declined", "review"):
            check = m.Check(id=uuid.uuid4(), applicant_id=run.applicant_id, status="complete", result="clear")
            reports = [m.Report(document_report(outcome)), m.Report(face_report())]
            check.report_ids = [r.actual_instance.id for r in reports]
            self.state.checks.setdefault(str(run.applicant_id), []).append(check)
            self.state.reports[str(check.id)] = reports
        run.status = m.WorkflowRunStatus(status)
        if status == "error":
            run.error = m.WorkflowRunError(type="task_error", message="A task of the workflow failed.")
        return self.send_webhook(run_id) if send else None

    def webhook_body(self, run_id: str) -> bytes:
        event = m.WebhookEvent(
            payload=m.WebhookEventPayload(
                resource_type=m.WebhookEventResourceType.WORKFLOW_RUN,
                action=m.WebhookEventType.WORKFLOW_RUN_DOT_COMPLETED,
                object=m.WebhookEventPayloadObject(
                    id=run_id,
                    status=m.WebhookEventObjectStatus(self.state.runs[run_id].status.value),
                    completed_at_iso8601=datetime.now(UTC),
                    href=f"{self.api_url}/workflow_runs/{run_id}",
                ),
            )
        )
        return json.dumps(_json(event)).encode()

    def sign(self, body: bytes, token: str | None = None) -> str:
        return hmac.new((token or self.webhook_token).encode(), body, hashlib.sha256).hexdigest()

    def send_webhook(self, run_id: str) -> int | None:
        if not self.webhook_url:
            return None
        body = self.webhook_body(run_id)
        response = requests.post(
            self.webhook_url,
            data=body,
            headers={"Content-Type": "application/json", "X-SHA2-Signature": self.sign(body)},
            timeout=30,
        )
        self.state.webhooks.append(response.status_code)
        return response.status_code

    # -- the HTTP side --------------------------------------------------------------------------

    def _send(
        self, handler: BaseHTTPRequestHandler, status: int, body: Any, content_type: str = "application/json"
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(raw)))
        handler.end_headers()
        handler.wfile.write(raw)

    def _redirect(self, handler: BaseHTTPRequestHandler, location: str) -> None:
        handler.send_response(303)
        handler.send_header("Location", location)
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        path, query = parts.path, parse_qs(parts.query)
        length = int(handler.headers.get("Content-Length") or 0)
        body = json.loads(handler.rfile.read(length) or b"null") if length else None
        if path.startswith("/hosted/"):
            self._hosted(handler, method, path.removeprefix("/hosted/"))
            return
        self.state.requests.append((method, path, handler.headers.get("Authorization", "")))
        if handler.headers.get("Authorization") != f"Token token={self.api_token}":
            self._send(handler, 401, {"error": {"type": "authorization_error", "message": "Bad token."}})
            return
        if self.state.delay:
            time.sleep(self.state.delay)
        if self.state.fail_status:
            self._send(handler, self.state.fail_status, {"error": {"type": "server_error", "message": "Down."}})
            return
        self._api(handler, method, path.removeprefix(API), query, body)

    def _api(self, handler: Any, method: str, path: str, query: dict[str, list[str]], body: Any) -> None:
        if method == "POST" and path == "/applicants":
            builder = m.ApplicantBuilder.from_dict(body)
            applicant = m.Applicant(id=uuid.uuid4(), first_name=builder.first_name, last_name=builder.last_name)
            self.state.applicants[str(applicant.id)] = applicant
            self._send(handler, 201, _json(applicant))
        elif method == "POST" and path == "/workflow_runs":
            builder = m.WorkflowRunBuilder.from_dict(body)
            if str(builder.applicant_id) not in self.state.applicants:
                self._send(handler, 422, {"error": {"type": "validation_error", "message": "No such applicant."}})
                return
            run_id = uuid.uuid4()
            link = builder.link or m.WorkflowRunLink()
            link.url = f"{self.base_url}/hosted/{run_id}"
            run = m.WorkflowRun(
                id=run_id,
                applicant_id=builder.applicant_id,
                workflow_id=builder.workflow_id,
                customer_user_id=builder.customer_user_id,
                link=link,
                status=m.WorkflowRunStatus.AWAITING_INPUT,
                output={},
            )
            self.state.runs[str(run_id)] = run
            self._send(handler, 201, _json(run))
        elif (
            method == "GET"
            and path.startswith("/workflow_runs/")
            and path.removeprefix("/workflow_runs/") in self.state.runs
        ):
            run = self.state.runs[path.removeprefix("/workflow_runs/")]
            self._send(handler, 200, _json(run))
        elif method == "GET" and path == "/checks":
            checks = self.state.checks.get(query.get("applicant_id", [""])[0], [])
            self._send(handler, 200, _json(m.ChecksList(checks=checks)))
        elif method == "GET" and path == "/reports":
            reports = self.state.reports.get(query.get("check_id", [""])[0], [])
            self._send(handler, 200, _json(m.ReportsList(reports=reports)))
        else:
            self._send(handler, 404, {"error": {"type": "resource_not_found", "message": path}})

    def _hosted(self, handler: Any, method: str, rest: str) -> None:
        run_id, _, action = rest.partition("/")
        run = self.state.runs.get(run_id)
        if run is None:
            self._send(handler, 404, b"<h1>Unknown run</h1>", "text/html")
        elif method == "POST" and action == "complete":
            self.complete(run_id)
            self._redirect(handler, (run.link.completed_redirect_url if run.link else None) or "/")
        else:
            page = (
                "<!doctype html><html lang=en><title>Onfido (local)</title><h1>Verify your identity</h1>"
                f'<form method=post action="/hosted/{run_id}/complete"><button>Submit documents</button></form>'
            )
            self._send(handler, 200, page.encode(), "text/html")
