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
from django.utils.translation import gettext

from apps.audit import reasons
from apps.audit.dispatch import Change, subjects
from apps.audit.errors import StateConflict
from apps.audit.services import Actor, expire_if_overdue, sweep_overdue, transition_apply, transition_record
from apps.identities.models import ExternalPersonalIdentity
from apps.organizations.models import Organization
from apps.people.services import detail_proposals_withdraw, person_details_propose
from apps.verifications.models import (
    ProcessReview,
    ProcessStatus,
    ProviderConnection,
    ReviewDecision,
    VerificationProcess,
)
from apps.verifications.normalise import PERSONAL_DETAIL_NAMES
from apps.verifications.providers import PROCESS_TYPES, PROVIDERS, evaluate, provider_keys
from apps.verifications.sandbox import sandbox_callback, sandbox_choices
from apps.webhooks.relay import notification_send

logger = logging.getLogger(__name__)

CALLBACK_EVENTS = ("started", "finished", "canceled", "failed")
# A face check compares faces: it never proposes names or any other detail (API.md "Pages").
FACE_ONLY_PROVIDERS = ("facetec",)


def connect_refusal() -> str | None:
    """Why connect processes are refused here, or None: its plain-JWT userInfo could not be
    verified (no PROVIDER_JWKS for connect where unverified JWTs are not allowed, i.e. production)."""
    if settings.CONNECT_UNVERIFIED_JWT_ALLOWED or settings.PROVIDER_JWKS.get("connect"):
        return None
    return "no JWKS is configured for connect (PROVIDER_JWKS), so its userInfo JWTs cannot be verified."


def provider_validate(provider: str, process_type: str | None, *, connected: bool = False) -> tuple[str, str]:
    """Check a provider name and its processType (API.md); returns them cleaned. `connected`: the
    organization connected this provider (its results are then read from the provider itself)."""
    family, _, method = provider.partition(":")
    if provider != "sandbox" and family not in PROVIDERS:
        raise ValidationError({"provider": [f"Unknown provider '{provider}'."]})
    if provider == "sandbox" and not settings.SANDBOX_ENABLED:
        raise ValidationError({"provider": ["The sandbox provider is not available here (SANDBOX_ENABLED is off)."]})
    if family == "connect" and not connected and (refusal := connect_refusal()):
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
    family = provider.partition(":")[0]
    # A connected OpenID Connect provider's ID tokens are checked against its own JWKS (discovery).
    connected = ProviderConnection.objects.filter(organization=organization, provider=family).exists()
    provider, process_type = provider_validate(provider, process_type, connected=connected)
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
        transition_record(subject=process, from_state="", to_state=process.status, actor=actor, reason=reasons.CREATED)
    return process


def processes_changed(changes: list[Change]) -> None:
    """Audit subscriber (VerificationsConfig.ready), in the transaction of the change: every
    transition of a process but its creation queues its signed notification, which commits or
    rolls back with the change (the delivery is sent after the commit); an inconclusive result
    enters the review queue."""
    for process in subjects([change for change in changes if not change.created]):
        process_notify(process=process)
        if process.status == ProcessStatus.INCONCLUSIVE:
            review_open(process=process)


def review_open(*, process: VerificationProcess) -> ProcessReview:
    """The process's review, created waiting for a reviewer (once; later calls return it)."""
    review, _created = ProcessReview.objects.get_or_create(
        process=process, defaults={"organization_id": process.organization_id}
    )
    return review


def review_assign(*, review: ProcessReview, user: Any, reason: str) -> ProcessReview:
    """A staff member takes a waiting review ("assign to me"): audited and sent as an event."""
    return transition_apply(review, "assign", actor=Actor.user(user), reason=reason, assignee=user)


def review_decide(*, review: ProcessReview, user: Any, decision: str, reason: str) -> ProcessReview:
    """The assignee accepts or rejects the verification, with a reason: audited and sent as an event."""
    if decision not in ReviewDecision.values:
        raise ValidationError(f"Unknown decision {decision!r}.")
    if not reason.strip():
        raise ValidationError("A decision needs a reason.")
    if review.assignee_id != user.pk:
        raise StateConflict(gettext("This review is assigned to someone else."))
    transition = "accept" if decision == ReviewDecision.ACCEPTED else "reject"
    return transition_apply(review, transition, actor=Actor.user(user), reason=reason.strip())


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
    person = identity.person
    if values and person is not None:
        # Connect results are not normalised: values the vocabulary can't hold are left out there.
        person_details_propose(
            person=person, values=values, process_id=str(process.id), provider=process.provider, actor=actor
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
                return transition_apply(locked, "start", actor=actor, reason=reasons.PROVIDER_STARTED)
            locked.refresh_from_db()
            return locked  # more data while processing: no status change
        if event == "canceled":
            return transition_apply(locked, "cancel", actor=actor, reason=reasons.CANCELED_AT_PROVIDER)
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
            reason=reasons.PROVIDER_FINISHED,
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
        detail_proposals_withdraw(process_id=locked.pk, actor=actor, reason=reasons.PROCESS_DATA_REDACTED)
    return locked


def process_cancel(
    *, process: VerificationProcess, actor: Actor, reason: str = reasons.CANCELED
) -> VerificationProcess:
    return transition_apply(process, "cancel", actor=actor, reason=reason)


def process_fail_if_overdue(*, process: VerificationProcess) -> VerificationProcess:
    """Read-time guard: an open process past its deadline fails now rather than at the next sweep."""
    return expire_if_overdue(process)


def processes_fail_overdue(*, batch_size: int = 500) -> int:
    """Beat sweep, one batch: open processes past their deadline fail with reason timeout. Idempotent."""
    return sweep_overdue(VerificationProcess, batch_size=batch_size)


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
