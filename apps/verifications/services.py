"""Writes for verification processes (seed 003)."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit.errors import StateConflict
from apps.audit.services import Actor, transition_apply, transition_record
from apps.identities.models import ExternalPersonalIdentity
from apps.organizations.models import Organization
from apps.people.services import detail_proposals_withdraw, person_details_propose
from apps.verifications.models import OPEN_STATUSES, ProcessStatus, VerificationProcess
from apps.verifications.normalise import PERSONAL_DETAIL_NAMES
from apps.verifications.providers import PROCESS_TYPES, PROVIDERS, evaluate, provider_keys
from apps.verifications.sandbox import sandbox_callback, sandbox_choices
from apps.webhooks.relay import notification_send

logger = logging.getLogger(__name__)

CALLBACK_EVENTS = ("started", "finished", "canceled", "failed")
TIMEOUT_REASON = {"type": "timeout", "message": "The process was not finished in time."}
# A face check compares faces: it never proposes names or any other detail (API.md "Pages").
FACE_ONLY_PROVIDERS = ("facetec",)


def connect_refusal() -> str | None:
    """Why connect processes are refused here, or None: its plain-JWT userInfo could not be
    verified (no PROVIDER_JWKS for connect where unverified JWTs are not allowed, i.e. production)."""
    if settings.CONNECT_UNVERIFIED_JWT_ALLOWED or settings.PROVIDER_JWKS.get("connect"):
        return None
    return "no JWKS is configured for connect (PROVIDER_JWKS), so its userInfo JWTs cannot be verified."


def provider_validate(provider: str, process_type: str | None) -> tuple[str, str]:
    """Check a provider name and its processType (API.md); returns them cleaned."""
    family, _, method = provider.partition(":")
    if provider != "sandbox" and family not in PROVIDERS:
        raise ValidationError({"provider": [f"Unknown provider '{provider}'."]})
    if provider == "sandbox" and not settings.SANDBOX_ENABLED:
        raise ValidationError({"provider": ["The sandbox provider is not available here (SANDBOX_ENABLED is off)."]})
    if family == "connect" and (refusal := connect_refusal()):
        raise ValidationError({"provider": [f"Connect is not available here: {refusal}"]})
    if method and family != "connect":
        raise ValidationError({"provider": ["Only connect takes a method, as in connect:idin."]})
    if ":" in provider and not method:
        raise ValidationError({"provider": ["Name the method after 'connect:', as in connect:idin."]})
    allowed = None if provider == "sandbox" else PROCESS_TYPES[family]
    if process_type:
        if allowed is None:
            raise ValidationError({"processType": [f"{family} takes no processType."]})
        if process_type not in allowed:
            raise ValidationError({"processType": [f"{family} accepts processType {', '.join(allowed)}."]})
    elif allowed:
        raise ValidationError({"processType": [f"{family} needs a processType: {', '.join(allowed)}."]})
    return provider, process_type or ""


def process_create(
    *,
    organization: Organization,
    provider: str,
    process_type: str | None,
    notification_url: str = "",
    redirect_url: str = "",
    identity: ExternalPersonalIdentity | None = None,
    activity: Any = None,
    actor: Actor,
) -> VerificationProcess:
    provider, process_type = provider_validate(provider, process_type)
    if activity is not None and (identity is None or activity.receptor_id != identity.pk):
        raise ValidationError({"activityId": ["A process for an activity must belong to its receptor (identityId)."]})
    with transaction.atomic():
        process = VerificationProcess.objects.create(
            organization=organization,
            provider=provider,
            process_type=process_type,
            notification_url=notification_url,
            redirect_url=redirect_url,
            identity=identity,
            activity=activity,
            deadline_at=timezone.now() + timedelta(seconds=settings.VERIFICATION_TIMEOUT_SECONDS),
        )
        transition_record(subject=process, from_state="", to_state=process.status, actor=actor, reason="created")
    return process


def process_after_transition(process: VerificationProcess, *, from_state: str, actor: Actor) -> None:
    """After every transition of a process, in its transaction (registered with the audit log in
    VerificationsConfig.ready): its signed notification."""
    process_notify(process=process)


def process_notify(*, process: VerificationProcess) -> None:
    """Signed POST {processId, status} to the notificationUrl, through the webhook sender."""
    if not process.notification_url:
        return
    notification_send(
        organization_id=process.organization_id,
        url=process.notification_url,
        event_type=VerificationProcess.EVENT_TYPE,
        body={"processId": str(process.id), "status": process.status},
    )


def provider_specific_merge(current: Mapping[str, Any] | None, update: Mapping[str, Any] | None) -> dict[str, Any]:
    """providerSpecific "filled in gradually" (seed 003): objects merge key by key, recursively;
    any other value (a string, a number, an array, null) from the later callback replaces the earlier.

    Neither argument is changed. Iterative, so a deeply nested payload cannot exhaust the stack."""
    merged = dict(current or {})
    pending = [(merged, update or {})]
    while pending:
        target, source = pending.pop()
        for key, value in source.items():
            earlier = target.get(key)
            if isinstance(value, Mapping) and isinstance(earlier, Mapping):
                target[key] = dict(earlier)
                pending.append((target[key], value))
            else:
                target[key] = value
    return merged


def _propose_person_details(process: VerificationProcess, actor: Actor) -> None:
    """An accepted process's finalResult, offered to the person it verified (API.md "Pages").

    Never from the sandbox (test data) nor from a face-only check; a value equal to the person's
    becomes verified, any other waits on /me/ until the person confirms it."""
    identity = process.identity
    if not process.final_result or identity is None or identity.person_id is None:
        return
    if process.is_sandbox or process.adapter_name in FACE_ONLY_PROVIDERS:
        return
    values = {
        detail: value
        for field, detail in PERSONAL_DETAIL_NAMES.items()
        if (value := process.final_result.get(field)) not in (None, "")
    }
    if values:
        # Connect results are not normalised: values the vocabulary can't hold are left out there.
        person_details_propose(
            person=identity.person, values=values, process_id=str(process.id), provider=process.provider, actor=actor
        )


def process_apply_provider_result(
    *,
    process: VerificationProcess,
    event: str,
    provider_specific: dict[str, Any] | None = None,
    fail_reason: dict[str, Any] | None = None,
    raw_result: Any = None,
    actor: Actor,
) -> VerificationProcess:
    """A provider reported progress or a result. `finished` runs the provider's mapping rules.

    Every callback's providerSpecific is merged into the process at once (provider_specific_merge);
    `rawResult` (any JSON) is kept, encrypted, for the full result only. After a redaction the
    status still moves, but no personal data is kept."""
    if event not in CALLBACK_EVENTS:
        raise ValidationError({"event": [f"One of {', '.join(CALLBACK_EVENTS)}."]})
    with transaction.atomic():
        # Locked first: two callbacks of one process merge their data one after the other.
        locked = VerificationProcess.objects.select_for_update().get(pk=process.pk)
        if locked.is_final:
            raise StateConflict(f"The process is already {locked.status}.")
        if event == "finished" and not locked.adapter_name:
            raise StateConflict("A sandbox process needs its provider chosen on its page before it can finish.")
        merged = provider_specific_merge(locked.provider_specific, provider_specific)
        received = {"event": event, "providerSpecific": provider_specific or {}, "failReason": fail_reason}
        _store_provider_data(locked, event=event, merged=merged, received=received, raw_result=raw_result)

        if event == "started":
            if locked.status == ProcessStatus.PENDING:
                return transition_apply(locked, "start", actor=actor, reason="provider started")
            locked.refresh_from_db()
            return locked  # more data while processing: no status change
        if event == "canceled":
            return transition_apply(locked, "cancel", actor=actor, reason="canceled at the provider")
        if event == "failed":
            reason = fail_reason or {"type": "provider_error", "message": "The provider reported a failure."}
            return transition_apply(
                locked, "fail", actor=actor, reason=str(reason.get("type", "failed")), fail_reason=reason
            )

        outcome = evaluate(
            locked.adapter_name,
            merged,
            process_type=locked.process_type or None,
            keys=provider_keys(settings.PROVIDER_JWKS.get(locked.adapter_name)),
            unverified_jwt_allowed=settings.CONNECT_UNVERIFIED_JWT_ALLOWED,
        )
        if outcome.status == ProcessStatus.FAILED:
            reason = outcome.fail_reason or {"type": "provider_error", "message": "The result could not be used."}
            return transition_apply(locked, "fail", actor=actor, reason=str(reason["type"]), fail_reason=reason)
        redacted = locked.redaction_requested
        process = transition_apply(
            locked,
            "finish",
            actor=actor,
            reason="provider finished",
            status=outcome.status,
            final_result=None if redacted else outcome.final_result,
        )
        if process.status == ProcessStatus.ACCEPTED and not redacted:
            _propose_person_details(process, actor)
    return process


def _store_provider_data(
    process: VerificationProcess,
    *,
    event: str,
    merged: dict[str, Any],
    received: dict[str, Any],
    raw_result: Any,
) -> None:
    """Keep a callback's data on the locked process before its transition (which re-reads the row)."""
    if process.redaction_requested:
        return  # nothing personal is kept again once redaction was asked for
    updates: dict[str, Any] = {"provider_specific": merged, "updated_at": timezone.now()}
    if raw_result is not None:
        # The provider's raw result as received; the latest one a provider sent wins.
        updates["raw_result"] = raw_result
    elif event != "started" and process.raw_result is None:
        # No raw result was sent: the final callback as received is what the provider gave.
        updates["raw_result"] = received
    VerificationProcess.objects.filter(pk=process.pk).update(**updates)


def process_replay_sample(
    *, process: VerificationProcess, provider: str, sample: str, actor: Actor
) -> VerificationProcess:
    """Report a shipped provider example for `process` as that provider would (sandbox, demo data)."""
    event, provider_specific, fail_reason, _ = sandbox_callback(provider, sample)
    if event == "finished":
        process = process_apply_provider_result(process=process, event="started", actor=actor)
    return process_apply_provider_result(
        process=process, event=event, provider_specific=provider_specific, fail_reason=fail_reason, actor=actor
    )


def process_sandbox_choose(*, process: VerificationProcess, provider: str, sample: str) -> VerificationProcess:
    """A tester picked an outcome on a sandbox process's page: replay that provider's example.

    Only where the sandbox is on; a face check (a process for an activity) replays FaceTec only."""
    if not settings.SANDBOX_ENABLED or not process.is_sandbox:
        raise ValidationError({"provider": ["The sandbox provider is not available here."]})
    allowed = {(p, n) for p, n, _ in sandbox_choices(face_only=process.activity_id is not None)}
    if (provider, sample) not in allowed:
        raise ValidationError({"outcome": ["Not an outcome this sandbox process can report."]})
    process_type = sandbox_callback(provider, sample)[3]
    with transaction.atomic():
        VerificationProcess.objects.filter(pk=process.pk, provider="sandbox").update(
            sandbox_provider=provider, process_type=process_type or ""
        )
        process.refresh_from_db()
        return process_replay_sample(process=process, provider=provider, sample=sample, actor=Actor.provider("sandbox"))


def process_redact(*, process: VerificationProcess, actor: Actor, reason: str) -> VerificationProcess:
    """Remove a process's personal data (providerSpecific, finalResult, the raw result), keeping its
    status and timestamps; Get process then says `redactionRequested: true`. Later callbacks still
    move the status but keep nothing. Audited; no event (no state changed). Idempotent."""
    with transaction.atomic():
        locked = VerificationProcess.objects.select_for_update().get(pk=process.pk)
        if locked.redaction_requested:
            return locked
        # .update(): updated_at is the process's, not the redaction's (timestamps are kept).
        VerificationProcess.objects.filter(pk=locked.pk).update(
            provider_specific=None, final_result=None, raw_result=None, redaction_requested_at=timezone.now()
        )
        locked.refresh_from_db()
        transition_record(
            subject=locked,
            from_state=locked.status,
            to_state=locked.status,
            actor=actor,
            reason=reason,
            event_type="process.redacted",
            publish=False,
        )
        detail_proposals_withdraw(process_id=locked.pk, actor=actor, reason="the process's data was redacted")
    return locked


def process_cancel(*, process: VerificationProcess, actor: Actor, reason: str = "canceled") -> VerificationProcess:
    return transition_apply(process, "cancel", actor=actor, reason=reason)


def process_fail_if_overdue(*, process: VerificationProcess) -> VerificationProcess:
    """Read-time guard: an open process past its deadline fails now rather than at the next sweep."""
    if process.status not in OPEN_STATUSES or process.deadline_at > timezone.now():
        return process
    try:
        return transition_apply(
            process, "fail", actor=Actor.system("timeout"), reason="timeout", fail_reason=dict(TIMEOUT_REASON)
        )
    except StateConflict:  # something else finished it first
        return VerificationProcess.objects.get(pk=process.pk)


def processes_fail_overdue(*, batch_size: int = 500) -> int:
    """Beat sweep: open processes past their deadline fail with reason timeout. Idempotent."""
    failed = 0
    with transaction.atomic():
        overdue = list(
            VerificationProcess.objects.select_for_update(skip_locked=True)
            .filter(status__in=OPEN_STATUSES, deadline_at__lte=timezone.now())
            .order_by("deadline_at")[:batch_size]
        )
        for process in overdue:
            transition_apply(
                process, "fail", actor=Actor.system("timeout sweep"), reason="timeout", fail_reason=dict(TIMEOUT_REASON)
            )
            failed += 1
    return failed


class ResultRedacted(Exception):
    """The full result existed and its personal data was redacted (HTTP 410)."""


def process_fullresult_zip(*, process: VerificationProcess, process_json: dict[str, Any]) -> bytes:
    """A zip with the process JSON and the provider's raw result JSON. 409 until final; 410 once redacted."""
    if not process.is_final:
        raise StateConflict("The full result is available once the process is final.")
    if process.redaction_requested:
        raise ResultRedacted("The process's personal data was redacted: there is no full result any more.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("process.json", json.dumps(process_json, indent=2, ensure_ascii=False))
        archive.writestr("provider-result.json", json.dumps(process.raw_result or {}, indent=2, ensure_ascii=False))
    return buffer.getvalue()
