"""Writes for people's apps: a person connects an app, revokes it, and every way a person's
tokens end (the person's act, a password change, the account's deletion)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_id_token_model, get_refresh_token_model

from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.services import Actor, transition_apply, transition_record
from apps.oauth.models import Connection, ConnectionStatus
from apps.oauth.scopes import SCOPE_NAMES

# "Last use" on /me/ is kept to the minute: one write a minute per connection, not one a request.
LAST_USE_RESOLUTION = timedelta(minutes=1)


def connection_record(*, person: Any, application: Any, scopes: list[str]) -> Connection:
    """The person approved `application` for `scopes` on the approval page: their connection to
    it starts (audited, with the person as actor) or gains the scopes."""
    with transaction.atomic():
        # One connection per person and app: concurrent approvals queue on the person's row.
        get_user_model().objects.select_for_update().filter(pk=person.pk).first()
        connection = (
            Connection.objects.select_for_update()
            .filter(person=person, application=application, status=ConnectionStatus.ACTIVE)
            .first()
        )
        if connection is None:
            connection = Connection.objects.create(
                person=person, application=application, scope=_scope(scopes), last_used_at=timezone.now()
            )
            transition_record(
                subject=connection,
                from_state="",
                to_state=connection.status,
                actor=Actor.user(person),
                reason=reasons.APPROVED_BY_PERSON,
                publish=False,
            )
        else:
            connection.scope = _scope([*connection.scope.split(), *scopes])
            connection.save(update_fields=["scope"])
    return connection


def _scope(scopes: list[str]) -> str:
    return " ".join(name for name in SCOPE_NAMES if name in scopes)


def connection_revoke(*, connection: Connection, actor: Actor, reason: str) -> Connection:
    """End a connection: the app loses every token it holds for the person, at once."""
    with transaction.atomic():
        connection = transition_apply(connection, "revoke", actor=actor, reason=reason)
        _tokens_revoke(person_id=connection.person_id, application_id=connection.application_id)
    return connection


def oauth_revoke_person(*, person: Any, actor: Actor, reason: str) -> int:
    """Every app loses access to the person (a password change, the account's deletion).
    Returns how many connections ended."""
    ended = 0
    with transaction.atomic():
        for connection in Connection.objects.filter(person=person, status=ConnectionStatus.ACTIVE):
            try:
                transition_apply(connection, "revoke", actor=actor, reason=reason)
            except StateConflict:
                continue  # revoked meanwhile: its tokens go below anyway
            ended += 1
        # Tokens go whatever the connections say: no token of the person outlives this.
        _tokens_revoke(person_id=person.pk)
    return ended


def oauth_forget_person(*, person: Any) -> int:
    """Before a person's account is deleted: every app they connected loses access."""
    return oauth_revoke_person(person=person, actor=Actor.user(person), reason=reasons.ACCOUNT_DELETED)


def _tokens_revoke(*, person_id: Any, application_id: Any = None) -> None:
    scope: dict[str, Any] = {"user_id": person_id}
    if application_id is not None:
        scope["application_id"] = application_id
    # Refresh tokens stay as revoked rows (reuse detection needs them); revoke() also deletes
    # the access token each one is bound to.
    for refresh_token in get_refresh_token_model().objects.filter(revoked__isnull=True, **scope):
        refresh_token.revoke()
    get_access_token_model().objects.filter(**scope).delete()
    get_id_token_model().objects.filter(**scope).delete()
    get_grant_model().objects.filter(**scope).delete()


def connection_touch(*, person_id: Any, application_id: Any) -> None:
    """Note that the app used its access for the person now (at most one write a minute)."""
    now = timezone.now()
    if not cache.add(f"oauth:used:{person_id}:{application_id}", 1, int(LAST_USE_RESOLUTION.total_seconds())):
        return
    Connection.objects.filter(
        person_id=person_id, application_id=application_id, status=ConnectionStatus.ACTIVE, last_used_at__lt=now
    ).update(last_used_at=now)
