"""Writes for verification processes (seed 003)."""

from __future__ import annotations

import io
import json
import logging
import zipfile
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
from apps.people.models import DetailSource
from apps.people.services import person_set_details
from apps.verifications.models import OPEN_STATUSES, ProcessStatus, VerificationProcess
from apps.verifications.normalise import PERSONAL_DETAIL_NAMES
from apps.verifications.providers import PROCESS_TYPES, PROVIDERS, evaluate, provider_keys

logger = logging.getLogger(__name__)

CALLBACK_EVENTS = ("started", "finished", "canceled", "failed")
TIMEOUT_REASON = {"type": "timeout", "message": "The process was not finished in time."}


def provider_validate(provider: str, process_type: str | None) -> tuple[str, str]:
    """Check a provider name and its processType (API.md); returns them cleaned."""
    family, _, method = provider.partition(":")
    if provider != "sandbox" and family not in PROVIDERS:
        raise ValidationError({"provider": [f"Unknown provider '{provider}'."]})
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


def process_notify(*, process: VerificationProcess) -> None:
    """Signed POST {processId, status} to the notificationUrl, through the webhook sender."""
    if not process.notification_url:
        return
    from apps.webhooks.services import notification_send

    notification_send(
        organization_id=process.organization_id,
        url=process.notification_url,
        event_type=VerificationProcess.EVENT_TYPE,
        body={"processId": str(process.id), "status": process.status},
    )


def _verify_person_details(process: VerificationProcess) -> None:
    """An accepted process's finalResult becomes the person's verified details."""
    identity = process.identity
    if not process.final_result or identity is None or identity.person_id is None:
        return
    for field, detail in PERSONAL_DETAIL_NAMES.items():
        value = process.final_result.get(field)
        if value in (None, ""):
            continue
        try:
            person_set_details(
                person=identity.person,
                details={detail: str(value)},
                source=DetailSource.VERIFIED,
                process_id=str(process.id),
                provider=process.provider,
            )
        except ValidationError:
            # Connect results are not normalised; a value our vocabulary can't hold stays out.
            logger.info("Process %s: %s not stored as a verified detail", process.id, detail)


def process_apply_provider_result(
    *,
    process: VerificationProcess,
    event: str,
    provider_specific: dict[str, Any] | None = None,
    fail_reason: dict[str, Any] | None = None,
    actor: Actor,
) -> VerificationProcess:
    """A provider reported progress or a result. `finished` runs the provider's mapping rules."""
    if event not in CALLBACK_EVENTS:
        raise ValidationError({"event": [f"One of {', '.join(CALLBACK_EVENTS)}."]})
    raw = {"event": event, "providerSpecific": provider_specific or {}, "failReason": fail_reason}
    if process.is_final:
        raise StateConflict(f"The process is already {process.status}.")
    if event == "started":
        return transition_apply(process, "start", actor=actor, reason="provider started")
    if event == "canceled":
        return transition_apply(process, "cancel", actor=actor, reason="canceled at the provider", raw=raw)
    if event == "failed":
        reason = fail_reason or {"type": "provider_error", "message": "The provider reported a failure."}
        return transition_apply(
            process, "fail", actor=actor, reason=str(reason.get("type", "failed")), fail_reason=reason, raw=raw
        )
    if not process.adapter_name:
        raise StateConflict("A sandbox process needs its provider chosen on its page before it can finish.")
    outcome = evaluate(
        process.adapter_name,
        provider_specific or {},
        process_type=process.process_type or None,
        keys=provider_keys(settings.PROVIDER_JWKS.get(process.adapter_name)),
    )
    with transaction.atomic():
        process = transition_apply(
            process,
            "finish",
            actor=actor,
            reason="provider finished",
            status=outcome.status,
            provider_specific=outcome.provider_specific,
            final_result=outcome.final_result,
            raw=raw,
        )
        if process.status == ProcessStatus.ACCEPTED:
            _verify_person_details(process)
    return process


def process_replay_sample(
    *, process: VerificationProcess, provider: str, sample: str, actor: Actor
) -> VerificationProcess:
    """Report a shipped provider example for `process` as that provider would (sandbox, demo data)."""
    from apps.verifications.sandbox import sandbox_callback

    event, provider_specific, fail_reason, _ = sandbox_callback(provider, sample)
    if event == "finished":
        process = process_apply_provider_result(process=process, event="started", actor=actor)
    return process_apply_provider_result(
        process=process, event=event, provider_specific=provider_specific, fail_reason=fail_reason, actor=actor
    )


def process_sandbox_choose(*, process: VerificationProcess, provider: str, sample: str) -> VerificationProcess:
    """A tester picked an outcome on a sandbox process's page: replay that provider's example."""
    from apps.verifications.sandbox import sandbox_callback

    process_type = sandbox_callback(provider, sample)[3]
    with transaction.atomic():
        VerificationProcess.objects.filter(pk=process.pk, provider="sandbox").update(
            sandbox_provider=provider, process_type=process_type or ""
        )
        process.refresh_from_db()
        return process_replay_sample(process=process, provider=provider, sample=sample, actor=Actor.provider("sandbox"))


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


def process_fullresult_zip(*, process: VerificationProcess, process_json: dict[str, Any]) -> bytes:
    """A zip with the process JSON and the provider's raw result JSON. 409 until final."""
    if not process.is_final:
        raise StateConflict("The full result is available once the process is final.")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("process.json", json.dumps(process_json, indent=2, ensure_ascii=False))
        archive.writestr("provider-result.json", json.dumps(process.raw_result or {}, indent=2, ensure_ascii=False))
    return buffer.getvalue()
