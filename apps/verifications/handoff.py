"""Provider connections and the hand-off of processes to them (API.md "Provider connections").

An organization connects its own Onfido or OpenID Connect account; its processes then start at
the provider (connectors), and the provider's answer (a webhook, a person coming back) is read,
kept as the raw result and judged by the provider's rules through the same service as a signed
callback (services.process_apply_provider_result). Without a connection nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.services import Actor, transition_apply, transition_record
from apps.organizations.models import Organization
from apps.verifications.connectors import ProviderError, connector_for, connectors
from apps.verifications.connectors.base import Collected
from apps.verifications.models import ProviderConnection, ProviderRun, VerificationProcess
from apps.verifications.services import process_apply_provider_result

logger = logging.getLogger(__name__)


def connection_get(*, organization: Organization, provider: str) -> ProviderConnection | None:
    return ProviderConnection.objects.filter(organization=organization, provider=provider).first()


def connection_list(*, organization: Organization) -> QuerySet[ProviderConnection]:
    return ProviderConnection.objects.filter(organization=organization)


def connectable(provider: str) -> bool:
    return provider in connectors()


def connection_settings_clean(provider: str, settings: Any) -> dict[str, Any]:
    connector = connectors().get(provider)
    if connector is None:
        raise ValidationError({"provider": [f"{provider} cannot be connected; one of {', '.join(connectors())}."]})
    if not isinstance(settings, Mapping):
        raise ValidationError({"settings": ["An object with the provider's settings."]})
    return connector.clean_settings(settings)


def connection_put(
    *, organization: Organization, provider: str, settings: Any, actor: Actor
) -> tuple[ProviderConnection, bool]:
    """Connect `provider` (or replace its settings). Audited; the row names the provider only."""
    cleaned = connection_settings_clean(provider, settings)
    with transaction.atomic():
        connection = (
            ProviderConnection.objects.select_for_update().filter(organization=organization, provider=provider).first()
        )
        created = connection is None
        if connection is None:
            connection = ProviderConnection.objects.create(
                organization=organization, provider=provider, settings=cleaned
            )
        else:
            connection.settings = cleaned
            connection.save(update_fields=["settings", "updated_at"])
        connection_audit(
            connection, actor=actor, action=reasons.CONNECTION_CONNECTED if created else reasons.CONNECTION_CHANGED
        )
    return connection, created


def connection_delete(*, organization: Organization, provider: str, actor: Actor) -> bool:
    """Disconnect: the provider's new processes go back to signed callbacks. Audited."""
    with transaction.atomic():
        connection = (
            ProviderConnection.objects.select_for_update().filter(organization=organization, provider=provider).first()
        )
        if connection is None:
            return False
        connection_audit(connection, actor=actor, action=reasons.CONNECTION_DISCONNECTED)
        connection.delete()
    return True


def connection_audit(connection: ProviderConnection, *, actor: Actor, action: str) -> None:
    """One audit row per connect / change / disconnect: which provider, by whom; never a setting."""
    transition_record(
        subject=connection,
        from_state="" if action == "connected" else connection.provider,
        to_state="" if action == "disconnected" else connection.provider,
        actor=actor,
        reason=action,
        event_type=f"provider.{action}",
        publish=False,
    )


def process_start_at_provider(*, process: VerificationProcess) -> VerificationProcess:
    """Start a new process at the organization's connected provider, if there is one.

    The provider's refusal (an error after the SDK's timeouts) fails the process with its
    failReason: the integrator sees `failed` at once rather than a link that leads nowhere."""
    connector = connector_for(process.provider)
    if connector is None or process.is_sandbox:
        return process
    connection = ProviderConnection.objects.filter(
        organization_id=process.organization_id, provider=connector.provider
    ).first()
    if connection is None:
        return process
    try:
        started = connector.start(process, connection)
    except ProviderError as exc:
        logger.warning("Starting process %s at %s failed: %s", process.pk, connector.provider, exc)
        ProviderRun.objects.create(process=process, connection=connection)
        return transition_apply(
            process,
            "fail",
            actor=Actor.provider(connector.provider),
            reason=str(exc.fail_reason["type"]),
            fail_reason=exc.fail_reason,
        )
    ProviderRun.objects.create(
        process=process, connection=connection, reference=started.reference, url=started.url, data=started.data
    )
    return process


def process_apply_collected(*, process: VerificationProcess, collected: Collected) -> VerificationProcess:
    """A provider's result read back: through the same service (and rules) as a signed callback."""
    actor = Actor.provider(process.adapter_name or process.provider)
    try:
        if collected.event == "finished" and process.status == "pending":
            process = process_apply_provider_result(process=process, event="started", actor=actor)
        return process_apply_provider_result(
            process=process,
            event=collected.event,
            provider_specific=collected.provider_specific,
            fail_reason=collected.fail_reason,
            raw_result=collected.raw_result,
            actor=actor,
        )
    except StateConflict:
        # Already final (a second webhook, a timeout): the first result stands.
        return VerificationProcess.objects.get(pk=process.pk)


def provider_webhook_receive(
    *, provider: str, organization: Organization, body: bytes, headers: Mapping[str, str]
) -> ProviderRun | None:
    """A provider's webhook for `organization`: checked by the connector (WebhookRejected if not
    the provider's); answers the run whose result is now to be collected, or None."""
    connector = connectors().get(provider)
    connection = connection_get(organization=organization, provider=provider)
    if connector is None or connection is None:
        raise LookupError(provider)
    reference = connector.handle_webhook(body=body, headers=headers, connection=connection)
    if not reference:
        return None
    run = (
        ProviderRun.objects.select_related("process")
        .filter(reference=reference, process__organization=organization, process__provider__startswith=provider)
        .first()
    )
    if run is None:
        raise LookupError(reference)
    return run


def process_collect(*, process_id: Any, final_attempt: bool) -> VerificationProcess | None:
    """Read a finished run back from its provider and apply it (the Celery task's body).

    ProviderError propagates while attempts remain (the task retries with backoff); on the final
    attempt the process fails with the provider's failReason."""
    run = ProviderRun.objects.select_related("process", "connection").filter(process_id=process_id).first()
    if run is None or run.process.is_final:
        return run.process if run else None
    connector = connector_for(run.process.provider)
    if connector is None:
        return run.process
    try:
        collected = connector.collect(run.process, run)
    except ProviderError as exc:
        if not final_attempt:
            raise
        collected = Collected(event="failed", fail_reason=exc.fail_reason)
    return process_apply_collected(process=run.process, collected=collected)


def connect_return(*, query: Mapping[str, str]) -> VerificationProcess:
    """The person is back from an OpenID Connect provider (ReturnRejected for a return the
    portal did not send)."""
    connector = connectors()["connect"]
    process, collected = connector.handle_return(query)
    if process.is_final:
        return process
    return process_apply_collected(process=process, collected=collected)
