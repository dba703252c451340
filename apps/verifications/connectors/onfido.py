"""Onfido, through its official SDK (onfido-python): an applicant and a Studio workflow run per
process; the person verifies at the run's hosted link; Onfido's `workflow_run.completed` webhook
(signed with the organization's webhook token) makes the portal read the run and its document
and facial-similarity reports back, keep them as the raw result and map them to the seed's
providerSpecific, which the Onfido rules (apps.verifications.providers.onfido) then judge.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import onfido
import urllib3
from django.core.exceptions import ValidationError
from onfido.exceptions import ApiException, OpenApiException
from pydantic import ValidationError as ShapeError

from apps.verifications.connectors.base import (
    Collected,
    Connector,
    ProviderError,
    Started,
    WebhookRejected,
    provider_url_check,
    provider_url_precheck,
    register,
)
from apps.verifications.links import process_url
from apps.verifications.models import ProviderConnection, ProviderRun, VerificationProcess

DEFAULT_API_URL = "https://api.eu.onfido.com/v3.6"
# Each call: 5 s to connect, 30 s to answer. Reads (GET) are retried on 429/5xx and network
# errors with backoff inside one attempt; the Celery task retries the whole collection.
TIMEOUT = urllib3.Timeout(connect=5.0, read=30.0)
READ_RETRIES = urllib3.Retry(
    total=2, redirect=0, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504), allowed_methods=("GET",)
)
# Applicants carry no personal data from the portal: Onfido reads the person's from the document.
APPLICANT_NAMES = {"first_name": "Portal", "last_name": "Applicant"}

# The run's statuses once the person is done, and what they come to here.
_CANCELED = ("abandoned",)
_ERROR = ("error",)
_COMPLETE = ("approved", "declined", "review")

# Report fields → the seed's providerSpecific names.
_DOCUMENT_PROPERTIES = {
    "first_name": "firstName",
    "last_name": "lastName",
    "date_of_expiry": "dateOfExpiry",
    "gender": "gender",
    "nationality": "nationality",
    "document_type": "documentType",
    "issuing_country": "issuingCountry",
    "date_of_birth": "dateOfBirth",
    "personal_number": "personalIdentificationNumber",
}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _api(settings: Mapping[str, Any], *, retries: urllib3.Retry | None = None) -> onfido.DefaultApi:
    configuration = onfido.Configuration(
        host=provider_url_check(settings.get("api_url") or DEFAULT_API_URL),
        api_token=settings["api_token"],
        timeout=TIMEOUT,
        retries=retries if retries is not None else urllib3.Retry(total=0, redirect=0),  # type: ignore[arg-type]
    )
    return onfido.DefaultApi(onfido.ApiClient(configuration))


def _plain(value: Any) -> Any:
    """An SDK model as plain JSON (dates as ISO strings)."""
    return json.loads(json.dumps(onfido.ApiClient().sanitize_for_serialization(value)))


def _provider_error(exc: Exception) -> ProviderError:
    if isinstance(exc, ApiException):
        return ProviderError(f"Onfido answered {exc.status} {exc.reason or ''}".strip(), status=exc.status)
    if isinstance(exc, ShapeError):
        return ProviderError("Onfido's answer did not have the expected shape.")
    return ProviderError(f"Onfido could not be reached: {type(exc).__name__}.", fail_type="provider_unreachable")


def document_block(report: Mapping[str, Any]) -> dict[str, Any]:
    """A document report → the seed's documentVerification block."""
    block: dict[str, Any] = {"result": report.get("result"), "subResult": report.get("sub_result")}
    for name, part in (report.get("breakdown") or {}).items():
        if isinstance(part, Mapping) and part.get("result"):
            block[_camel(name)] = part["result"]
    properties = report.get("properties") or {}
    for name, key in _DOCUMENT_PROPERTIES.items():
        if properties.get(name) not in (None, ""):
            block[key] = properties[name]
    numbers = [n for n in properties.get("document_numbers") or [] if isinstance(n, Mapping) and n.get("value")]
    if numbers:
        preferred = [n for n in numbers if n.get("type") == "document_number"] or numbers
        block["documentNumber"] = preferred[0]["value"]
    return {key: value for key, value in block.items() if value is not None}


def face_block(report: Mapping[str, Any]) -> dict[str, Any]:
    """A facial similarity report → the seed's facialSimilarity block."""
    block: dict[str, Any] = {"result": report.get("result")}
    for name, part in (report.get("breakdown") or {}).items():
        if isinstance(part, Mapping) and part.get("result"):
            block[_camel(name)] = part["result"]
    score = (report.get("properties") or {}).get("score")
    if score is not None:
        block["similarityScore"] = score
    return {key: value for key, value in block.items() if value is not None}


def provider_specific(reports: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The reports of a run → the seed's providerSpecific (the first document and face report)."""
    result: dict[str, Any] = {}
    for report in reports:
        name = str(report.get("name") or "")
        if name.startswith("document") and "documentVerification" not in result:
            result["documentVerification"] = document_block(report)
        elif name.startswith("facial_similarity") and "facialSimilarity" not in result:
            result["facialSimilarity"] = face_block(report)
    return result


def signature_valid(body: bytes, signature: str, token: str) -> bool:
    """X-SHA2-Signature: the hex HMAC-SHA256 of the raw body keyed with the webhook token."""
    expected = hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature.strip().lower())


@register
class OnfidoConnector(Connector):
    provider = "onfido"
    required = ("api_token", "webhook_token", "workflow_id")
    optional = {"api_url": DEFAULT_API_URL}
    secrets = ("api_token", "webhook_token")

    def clean_settings(self, settings: Mapping[str, Any]) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        cleaned: dict[str, Any] = {}
        for name in self.required:
            value = settings.get(name)
            if not isinstance(value, str) or not value.strip():
                errors[name] = ["Required: a non-empty string."]
            else:
                cleaned[name] = value.strip()
        api_url = settings.get("api_url") or DEFAULT_API_URL
        parts = urlsplit(api_url) if isinstance(api_url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            errors["api_url"] = ["An http(s) URL, e.g. https://api.eu.onfido.com/v3.6."]
        elif refused := provider_url_precheck(api_url):
            errors["api_url"] = [refused]
        else:
            cleaned["api_url"] = api_url.rstrip("/")
        unknown = sorted(set(settings) - set(self.required) - set(self.optional))
        for name in unknown:
            errors[name] = ["Unknown setting for onfido."]
        if errors:
            raise ValidationError(errors)
        return cleaned

    def start(self, process: VerificationProcess, connection: ProviderConnection) -> Started:
        api = _api(connection.settings)
        try:
            applicant = api.create_applicant(
                onfido.ApplicantBuilder(
                    first_name=APPLICANT_NAMES["first_name"], last_name=APPLICANT_NAMES["last_name"]
                )
            )
            run = api.create_workflow_run(
                onfido.WorkflowRunBuilder(
                    applicant_id=applicant.id,
                    workflow_id=connection.settings["workflow_id"],
                    customer_user_id=str(process.pk),
                    link=onfido.WorkflowRunLink(completed_redirect_url=process_url(process)),
                )
            )
        except (OpenApiException, ShapeError, urllib3.exceptions.HTTPError) as exc:
            raise _provider_error(exc) from exc
        url = run.link.url if run.link else None
        if not url:
            raise ProviderError("Onfido's workflow run has no hosted link (link.url).")
        return Started(url=url, reference=str(run.id), data={"applicantId": str(applicant.id)})

    def handle_webhook(self, *, body: bytes, headers: Mapping[str, str], connection: ProviderConnection) -> str | None:
        if not signature_valid(body, headers.get("X-SHA2-Signature", ""), connection.settings["webhook_token"]):
            raise WebhookRejected("Missing or invalid X-SHA2-Signature.")
        try:
            payload = json.loads(body)["payload"]
            resource_type, action = payload["resource_type"], payload.get("action")
            object_id = str(payload["object"]["id"]) if payload.get("object") else ""
        except (ValueError, KeyError, TypeError):
            raise ValidationError({"payload": ["Not an Onfido webhook event."]}) from None
        if resource_type == "workflow_run" and action == "workflow_run.completed" and object_id:
            return object_id
        return None  # acknowledged; only a completed run has a result to read

    def collect(self, process: VerificationProcess, run: ProviderRun) -> Collected:
        if run.connection is None:
            reason = {"type": "provider_disconnected", "message": "Onfido was disconnected before the result was read."}
            return Collected(event="failed", fail_reason=reason)
        try:
            reference = UUID(run.reference)
        except ValueError:
            raise ProviderError(f"Not an Onfido workflow run id: {run.reference!r}.") from None
        api = _api(run.connection.settings, retries=READ_RETRIES)
        try:
            workflow_run = api.find_workflow_run(reference)
            status = workflow_run.status.value if workflow_run.status else ""
            raw: dict[str, Any] = {"workflowRun": _plain(workflow_run), "reports": []}
            if status in _CANCELED:
                return Collected(event="canceled", raw_result=raw)
            if status in _ERROR:
                error = workflow_run.error
                message = (error.message if error and error.message else None) or "The workflow run ended in error."
                return Collected(
                    event="failed", raw_result=raw, fail_reason={"type": "provider_error", "message": message}
                )
            if status not in _COMPLETE:
                raise ProviderError(f"Onfido's workflow run is still {status or 'unknown'}.", fail_type="not_finished")
            reports: list[Mapping[str, Any]] = []
            for check in api.list_checks(workflow_run.applicant_id).checks:
                reports.extend(_plain(api.list_reports(check.id))["reports"])
        except (OpenApiException, ShapeError, urllib3.exceptions.HTTPError) as exc:
            raise _provider_error(exc) from exc
        raw["reports"] = reports
        return Collected(event="finished", provider_specific=provider_specific(reports), raw_result=raw)
