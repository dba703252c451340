"""The one way any state machine changes: lock, transition, save, log — in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models.signals import post_save
from django.utils import timezone
from django_fsm import can_proceed

from apps.audit.errors import StateConflict
from apps.audit.models import ActorType, Transition


@dataclass(frozen=True)
class Actor:
    """Who caused a change, as written to the audit log."""

    type: str
    id: str = ""
    label: str = ""

    @classmethod
    def user(cls, user: Any) -> Actor:
        return cls(ActorType.USER, str(user.pk), f"user {user.pk}")

    @classmethod
    def api_key(cls, api_key: Any) -> Actor:
        return cls(ActorType.API_KEY, str(api_key.pk), f"API key {api_key.prefix}")

    @classmethod
    def provider(cls, name: str) -> Actor:
        return cls(ActorType.PROVIDER, name, f"provider {name}")

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(ActorType.SYSTEM, "", label)


class Audited(Protocol):
    """What a model offers the audit log: its event name, state field and payload."""

    pk: Any
    EVENT_TYPE: str
    STATE_FIELD: str

    def event_data(self) -> dict[str, Any]: ...


M = TypeVar("M", bound=models.Model)

# Side effects a model's transitions share on every path (API, admin, timers), run inside the
# transition's transaction, e.g. a process's signed notification to its notificationUrl.
# Registered by the model's own app in AppConfig.ready(): a model cannot call its app's services
# itself, since they import it.
AfterTransition = Callable[..., None]
_after_transition: dict[type[models.Model], AfterTransition] = {}


def after_transition_register(model: type[models.Model], hook: AfterTransition) -> None:
    """Run `hook(subject, from_state=..., actor=...)` after every transition_apply on `model`."""
    _after_transition[model] = hook


def transition_record(
    *,
    subject: Audited,
    from_state: str,
    to_state: str,
    actor: Actor,
    reason: str = "",
    event_type: str = "",
    publish: bool = True,
) -> Transition:
    """Append one audit row; callers are inside the transaction that made the change.

    `publish=False` logs an act that is no event (no state changed, e.g. a process's personal
    data redacted, under its own `event_type`): the row is born published, so the relay skips it."""
    return Transition.objects.create(
        content_type=ContentType.objects.get_for_model(subject),  # type: ignore[arg-type]
        object_id=str(subject.pk),
        organization_id=getattr(subject, "organization_id", None),
        from_state=from_state,
        to_state=to_state,
        event_type=event_type or subject.EVENT_TYPE,
        data=subject.event_data(),
        actor_type=actor.type,
        actor_id=actor.id,
        actor_label=actor.label[:200],
        reason=reason,
        published_at=None if publish else timezone.now(),
    )


def transition_apply(subject: M, transition: str, *, actor: Actor, reason: str = "", **kwargs: Any) -> M:
    """Run the named django-fsm transition on a locked fresh copy of `subject` and log it.

    Raises StateConflict (HTTP 409) when the current state forbids the transition.
    Returns the updated instance.
    """
    model = type(subject)
    with transaction.atomic():
        # The row lock serialises concurrent changes: the loser re-reads the new state
        # after the winner commits, and can_proceed() then refuses it.
        locked = model._default_manager.select_for_update().get(pk=subject.pk)
        method = getattr(locked, transition)
        from_state = getattr(locked, locked.STATE_FIELD)  # type: ignore[attr-defined]
        if not can_proceed(method):
            label = model._meta.verbose_name
            raise StateConflict(f"A {label} in state {from_state} cannot {transition.replace('_', ' ')}.")
        method(**kwargs)
        locked.save()
        transition_record(
            subject=locked,  # type: ignore[arg-type]
            from_state=from_state,
            to_state=getattr(locked, locked.STATE_FIELD),  # type: ignore[attr-defined]
            actor=actor,
            reason=reason,
            # A person's own objects (e.g. their detail proposals) are logged but are no
            # organization's events.
            publish=getattr(locked, "PUBLISH_EVENTS", True),
        )
        hook = _after_transition.get(model)
        if hook is not None:
            hook(locked, from_state=from_state, actor=actor)
    return locked


def transitions_announce(*, using: str = "default") -> None:
    """After transitions written in bulk (set-based sweeps, no post_save per row): tell the
    listeners once, as a single new row would (the webhook relay then publishes them all)."""
    latest = Transition.objects.using(using).order_by("-id").first()
    if latest is not None:
        post_save.send(sender=Transition, instance=latest, created=True, update_fields=None, raw=False, using=using)
