"""Writes for data-transfer sessions (seed 004)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.audit import reasons
from apps.audit.dispatch import Change, subjects
from apps.audit.errors import StateConflict
from apps.audit.services import Actor, expire_if_overdue, sweep_overdue, transition_apply, transition_record
from apps.core.task_queue import enqueue
from apps.core.token_hashes import token_hash, token_matches
from apps.organizations.models import Organization
from apps.people.selectors import person_details
from apps.people.vocabulary import DETAIL_NAMES
from apps.transfers.models import (
    DEFAULT_EXPIRES_IN,
    MAX_EXPIRES_IN,
    MIN_EXPIRES_IN,
    OPEN_STATUSES,
    SessionStatus,
    TransferSession,
)
from apps.transfers.status_cache import status_changed
from apps.webhooks.relay import notification_send

logger = logging.getLogger(__name__)


def group_name(session_id: Any) -> str:
    return f"transfer-session-{session_id}"


def session_token_valid(session: TransferSession, token: str | None) -> bool:
    """Constant-time comparison of the presented token's hash with the stored one."""
    return token_matches(token, session.token_hash)


def scopes_validate(scopes: list[str]) -> list[str]:
    unknown = [s for s in scopes if s not in DETAIL_NAMES]
    if unknown:
        raise ValidationError({"scopes": [f"Unknown personal details: {', '.join(unknown)}."]})
    if not scopes:
        raise ValidationError({"scopes": ["Ask for at least one personal detail."]})
    return list(dict.fromkeys(scopes))


def session_create(
    *,
    organization: Organization,
    scopes: list[str],
    vendor_data: str = "",
    callback: str = "",
    expires_in: timedelta = DEFAULT_EXPIRES_IN,
    actor: Actor,
) -> tuple[TransferSession, str]:
    """A new session and its token (returned once; only its hash is kept)."""
    scopes = scopes_validate(scopes)
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        session = TransferSession.objects.create(
            organization=organization,
            scopes=scopes,
            vendor_data=vendor_data,
            callback=callback,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + expires_in,
        )
        transition_record(subject=session, from_state="", to_state=session.status, actor=actor, reason=reasons.CREATED)
        transaction.on_commit(lambda: _schedule_expiry(session))
    return session, token


def _schedule_expiry(session: TransferSession) -> None:
    """Sessions are short: a countdown task expires them on time; the beat sweep backs it up."""
    try:
        enqueue("apps.transfers.tasks.expire_session", args=[str(session.pk)], eta=session.expires_at)
    except Exception:  # the broker being down must not fail the request; the sweep catches it
        logger.warning("Could not schedule the expiry of session %s", session.pk, exc_info=True)


def sessions_changed(changes: list[Change]) -> None:
    """Audit subscriber (TransfersConfig.ready), in the transaction of the change, for every
    transition of a session but its creation: the cached status follows (its entry is dropped
    now and the new one written on commit: apps.core.exact_cache), and the signed POST to the
    callback is queued, committing or rolling back with the change."""
    for session in subjects([change for change in changes if not change.created]):
        status_changed(session)
        if session.callback:
            notification_send(
                organization_id=session.organization_id,
                url=session.callback,
                event_type=TransferSession.EVENT_TYPE,
                body=session.event_data(),
            )


def sessions_changed_committed(changes: list[Change]) -> None:
    """Audit subscriber (TransfersConfig.ready), after the commit: the display pages of every
    changed session (but a new one) learn its status over their WebSocket group."""
    for session in subjects([change for change in changes if not change.created]):
        message = {"type": "session.status", "status": session.status}
        if session.replaced_by_id:
            message["replaced_by"] = str(session.replaced_by_id)
        _push(session.pk, message)


def _push(session_id: Any, message: dict[str, Any]) -> None:
    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(session_id), message)
    except Exception:  # live status is best effort; polling is the fallback
        logger.warning("Could not push the status of session %s", session_id, exc_info=True)


def session_expire_if_overdue(*, session: TransferSession) -> TransferSession:
    """Read-time guard: an open session past expires_at expires now."""
    return expire_if_overdue(session)


def sessions_expire_overdue(*, batch_size: int = 500) -> int:
    """Beat sweep, one batch: open sessions past expires_at expire. Idempotent."""
    return sweep_overdue(TransferSession, batch_size=batch_size)


def sessions_purge_data(*, batch_size: int = 500) -> int:
    """Confirmed data is kept SESSION_DATA_RETENTION_SECONDS after the answer, then purged."""
    cutoff = timezone.now() - timedelta(seconds=settings.SESSION_DATA_RETENTION_SECONDS)
    ids = list(
        TransferSession.objects.filter(data__isnull=False, answered_at__lte=cutoff).values_list("pk", flat=True)[
            :batch_size
        ]
    )
    purged = TransferSession.objects.filter(pk__in=ids).update(data=None, data_purged_at=timezone.now())
    # Replacement tokens only serve display pages following a renewal; they go after the window too.
    old_ids = list(
        TransferSession.objects.filter(replacement_token__isnull=False, created_at__lte=cutoff).values_list(
            "pk", flat=True
        )[:batch_size]
    )
    TransferSession.objects.filter(pk__in=old_ids).update(replacement_token=None)
    return purged


def session_retrieve(*, session: TransferSession, person: Any) -> TransferSession:
    """The signed-in person opened the session: initialized → retrieved (again: no change)."""
    session = session_expire_if_overdue(session=session)
    if session.status == SessionStatus.RETRIEVED and session.person_id == person.pk:
        return session
    if session.status != SessionStatus.INITIALIZED:
        raise StateConflict(f"The session is already {session.status}.")
    return transition_apply(session, "retrieve", actor=Actor.user(person), reason=reasons.RETRIEVED, person=person)


def session_answer(
    *, session: TransferSession, person: Any, decision: str, accepted_scopes: list[str]
) -> TransferSession:
    """Confirm with the accepted scopes (a non-empty subset of the requested ones, at least one
    with a value) or decline. Once; a refused answer changes nothing."""
    session = session_expire_if_overdue(session=session)
    if session.status != SessionStatus.RETRIEVED:
        raise StateConflict(f"The session is {session.status}; it can no longer be answered.")
    if session.person_id is not None and session.person_id != person.pk:
        raise StateConflict("Another person is answering this session.")
    actor = Actor.user(person)
    if decision == SessionStatus.DECLINED:
        return transition_apply(session, "decline", actor=actor, reason=reasons.DECLINED, person=person)
    extra = [s for s in accepted_scopes if s not in session.scopes]
    if extra:
        raise ValidationError({"accepted_scopes": [f"Not requested: {', '.join(extra)}."]})
    accepted = [s for s in session.scopes if s in accepted_scopes]
    if not accepted:
        # A confirmation that shares nothing would end the session as if answered (seed 004:
        # the person confirms "the shared data accepted"); they can still decline.
        raise ValidationError(
            {"accepted_scopes": ["Confirming shares at least one requested detail: accept one, or decline."]}
        )
    values = {d.name: d.value for d in person_details(person=person) if d.name in accepted}
    if not values:
        raise ValidationError(
            {
                "accepted_scopes": [
                    "None of the accepted details has a value to share: accept one you have given, or decline."
                ]
            }
        )
    return transition_apply(
        session,
        "confirm",
        actor=actor,
        reason=reasons.CONFIRMED,
        person=person,
        accepted_scopes=accepted,
        data=values,
    )


def session_renew(*, session: TransferSession, actor: Actor) -> tuple[TransferSession, str, bool]:
    """A new session like `session` (same scopes, vendor_data, callback, lifetime); the old one expires.

    Returns (replacement, its token, created). Renewing an already renewed session returns the
    same replacement (created=False), so two display tabs showing one QR both follow the renewal.
    """
    session = session_expire_if_overdue(session=session)
    if session.replaced_by_id:
        return _replacement(session)
    if session.status not in (SessionStatus.INITIALIZED, SessionStatus.EXPIRED):
        raise StateConflict(f"A {session.status} session cannot be renewed.")
    lifetime = session.expires_at - session.created_at
    lifetime = min(max(lifetime, MIN_EXPIRES_IN), MAX_EXPIRES_IN)
    with transaction.atomic():
        locked = TransferSession.objects.select_for_update().get(pk=session.pk)
        if locked.replaced_by_id:
            return _replacement(locked)
        if locked.status not in (SessionStatus.INITIALIZED, SessionStatus.EXPIRED):
            raise StateConflict(f"A {locked.status} session cannot be renewed.")
        new, token = session_create(
            organization=locked.organization,
            scopes=locked.scopes,
            vendor_data=locked.vendor_data,
            callback=locked.callback,
            expires_in=lifetime,
            actor=actor,
        )
        if locked.status == SessionStatus.INITIALIZED:
            transition_apply(
                locked, "expire", actor=actor, reason=reasons.RENEWED, replaced_by=new, replacement_token=token
            )
        else:
            TransferSession.objects.filter(pk=locked.pk).update(replaced_by=new, replacement_token=token)
            # Already expired: no state change, but the cached status and the display pages
            # learn about the replacement.
            locked.replaced_by = new
            status_changed(locked)
            message = {"type": "session.status", "status": locked.status, "replaced_by": str(new.pk)}
            transaction.on_commit(lambda: _push(locked.pk, message))
    return new, token, True


def _replacement(session: TransferSession) -> tuple[TransferSession, str, bool]:
    if not session.replacement_token or session.replaced_by is None:
        raise StateConflict("The session was renewed and its replacement is no longer available.")
    return session.replaced_by, session.replacement_token, False


def transfers_forget_person(*, person: Any, actor: Actor) -> dict[str, int]:
    """A person's account is being deleted (apps.portal.services.person_delete): their open
    sessions expire (audited, emitted) and the values they confirmed are purged now."""
    sessions = 0
    for session in TransferSession.objects.filter(person=person, status__in=OPEN_STATUSES):
        try:
            transition_apply(session, "expire", actor=actor, reason=reasons.ACCOUNT_DELETED)
            sessions += 1
        except StateConflict:
            pass
    sessions += TransferSession.objects.filter(person=person, data__isnull=False).update(
        data=None, data_purged_at=timezone.now()
    )
    return {"sessions": sessions}
