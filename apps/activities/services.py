"""Writes for consent activities (seed 000): create, answer, complete, withdraw, revoke, timers."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from apps.activities.models import (
    Activity,
    ActivityStatus,
    ActivityType,
    ConsentReceipt,
    Party,
    SharedSnapshot,
)
from apps.activities.selectors import activity_bioface_accepted
from apps.audit.errors import StateConflict
from apps.audit.models import Transition
from apps.audit.services import Actor, transition_apply, transition_record, transitions_announce
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.organizations.models import Organization
from apps.people.models import PersonalDetail

DEFAULT_VALID_FOR = timedelta(days=7)


class PartyForbidden(Exception):
    """The caller may not act for this party (HTTP 403)."""


def _identity(organization: Organization, identity_id: Any, field: str) -> ExternalPersonalIdentity:
    identity = ExternalPersonalIdentity.objects.filter(organization=organization, pk=identity_id).first()
    if identity is None:
        raise ValidationError({field: ["No such identity in this organization."]})
    return identity


def _values(identity: ExternalPersonalIdentity, details: Iterable[str], field: str) -> dict[str, str]:
    """The current values of `details` from the person behind `identity`; all must exist."""
    names = list(details)
    if not names:
        return {}
    found = {}
    if identity.person_id:
        found = {d.name: d.value for d in PersonalDetail.objects.filter(person_id=identity.person_id, name__in=names)}
    missing = [n for n in names if n not in found]
    if missing:
        raise ValidationError({field: [f"No value to share for: {', '.join(missing)}."]})
    return {n: found[n] for n in names}


def _type_rules(
    type: str, requirements: list[dict[str, Any]], offered: list[str], sharing_period: Any, authorization: Any
) -> None:
    errors: dict[str, list[str]] = {}
    needs_requirements = type in (ActivityType.REQUEST, ActivityType.SWAP)
    needs_offer = type in (ActivityType.SHARE, ActivityType.SWAP)
    if needs_requirements and not requirements:
        errors["requirements"] = ["Name at least one detail to request."]
    if not needs_requirements and requirements:
        errors["requirements"] = ["Only AT_001 and AT_003 request details."]
    if needs_offer and not offered:
        errors["offered_details"] = ["Name at least one detail to offer."]
    if not needs_offer and offered:
        errors["offered_details"] = ["Only AT_002 and AT_003 offer details."]
    if type == ActivityType.SHARE and sharing_period is None:
        errors["sharing_period"] = ["AT_002 needs the initiator's sharing_period."]
    if type != ActivityType.SHARE and sharing_period is not None:
        errors["sharing_period"] = ["The receptor chooses the sharing period when accepting."]
    if type == ActivityType.AUTHORIZATION and not authorization:
        errors["authorization"] = ["AT_004 needs an authorization with a description."]
    if type != ActivityType.AUTHORIZATION and authorization:
        errors["authorization"] = ["Only AT_004 carries an authorization."]
    if errors:
        raise ValidationError(errors)


def _receipt(activity: Activity, giver: str, details: list[str]) -> None:
    """A receipt for every consent: details given, or (AT_004) the authorization approved."""
    identity = activity.identity_of(giver)
    other = activity.identity_of(Party.RECEPTOR if giver == Party.INITIATOR else Party.INITIATOR)
    if identity.person_id is None or (not details and activity.type != ActivityType.AUTHORIZATION):
        return
    ConsentReceipt.objects.create(
        activity=activity,
        person_id=identity.person_id,
        party=giver,
        recipient=f"{other.first_name} {other.last_name}",
        organization_name=activity.organization.name,
        details=details,
        purpose=(
            f"Authorized: {(activity.authorization or {}).get('description', '')}"
            if activity.type == ActivityType.AUTHORIZATION
            else activity.purpose
        ),
        sharing_until=activity.sharing_until,
    )


def _share(activity: Activity, giver: str, details: list[str], field: str) -> None:
    values = _values(activity.identity_of(giver), details, field)
    if values:
        SharedSnapshot.objects.create(activity=activity, giver=giver, values=values)
        _receipt(activity, giver, details)


def activity_create(
    *,
    organization: Organization,
    type: str,
    initiator_id: Any,
    receptor_id: Any,
    requirements: list[dict[str, Any]] | None = None,
    valid_for: timedelta | None = None,
    purpose: str = "",
    offered_details: list[str] | None = None,
    sharing_period: timedelta | None = None,
    authorization: dict[str, Any] | None = None,
    actor: Actor,
) -> Activity:
    """Create an activity between two ACTIVE identities; AT_002 is created already ACCEPTED."""
    requirements, offered = list(requirements or []), list(offered_details or [])
    _type_rules(type, requirements, offered, sharing_period, authorization)
    initiator = _identity(organization, initiator_id, "initiator_id")
    receptor = _identity(organization, receptor_id, "receptor_id")
    if initiator.pk == receptor.pk:
        raise ValidationError({"receptor_id": ["The receptor must be another identity than the initiator."]})
    for field, identity in (("initiator_id", initiator), ("receptor_id", receptor)):
        if identity.state != IdentityState.ACTIVE:
            raise StateConflict(f"The {field.removesuffix('_id')} identity is {identity.state}, not ACTIVE.")
    if type == ActivityType.SWAP:
        # The initiator must be able to give what they offer; the values are taken at acceptance.
        _values(initiator, offered, "offered_details")
    now = timezone.now()
    share = type == ActivityType.SHARE
    with transaction.atomic():
        activity = Activity.objects.create(
            organization=organization,
            type=type,
            initiator=initiator,
            receptor=receptor,
            requirements=requirements,
            offered_details=offered,
            purpose=purpose,
            authorization=authorization,
            valid_until=now + (valid_for or DEFAULT_VALID_FOR),
            # A share needs no answer: it is accepted by the initiator's act of sharing.
            status=ActivityStatus.ACCEPTED if share else ActivityStatus.PENDING,
            sharing_period=sharing_period if share else None,
            sharing_until=now + sharing_period if share and sharing_period else None,
            accepted_at=now if share else None,
            accepted_details=offered if share else [],
        )
        if share:
            _share(activity, Party.INITIATOR, offered, "offered_details")
        transition_record(subject=activity, from_state="", to_state=activity.status, actor=actor, reason="created")
    return activity


def _guard_pending(activity: Activity) -> None:
    # Checked before the request body: when the state forbids the answer it is a 409 whatever the body says.
    # Read-time guard: past valid_until the activity is canceled even if the sweep has not run.
    status = activity.effective_status()
    if status != ActivityStatus.PENDING:
        overdue = activity.status == ActivityStatus.PENDING
        why = "its validity period has ended" if overdue else "it is no longer waiting for an answer"
        raise StateConflict(f"The activity is {status}: {why}.")


def activity_accept(
    *,
    activity: Activity,
    accepted_details: list[str] | None = None,
    sharing_period: timedelta | None = None,
    actor: Actor,
) -> Activity:
    """The receptor accepts all or part of the request; required details cannot be left out."""
    _guard_pending(activity)
    if activity.type == ActivityType.SHARE:
        raise StateConflict("A share needs no answer.")
    requested = [r["detail"] for r in activity.requirements]
    required = [r["detail"] for r in activity.requirements if r.get("required")]
    chosen = list(dict.fromkeys(accepted_details if accepted_details is not None else requested))
    errors: dict[str, list[str]] = {}
    unrequested = [d for d in chosen if d not in requested]
    if unrequested:
        errors["accepted_details"] = [f"Not requested: {', '.join(unrequested)}."]
    elif missing := [d for d in required if d not in chosen]:
        errors["accepted_details"] = [f"Required details cannot be left out: {', '.join(missing)}."]
    if activity.type in (ActivityType.REQUEST, ActivityType.SWAP) and sharing_period is None:
        errors["sharing_period"] = ["Choose how long the details are shared."]
    if activity.type == ActivityType.AUTHORIZATION and sharing_period is not None:
        errors["sharing_period"] = ["An authorization shares no details, so it has no sharing period."]
    if errors:
        raise ValidationError(errors)
    auth = activity.authorization or {}
    if (
        activity.type == ActivityType.AUTHORIZATION
        and auth.get("requires_bioface")
        and not activity_bioface_accepted(activity=activity)
    ):
        raise StateConflict("This authorization needs an accepted FaceTec verification of the receptor first.")
    with transaction.atomic():
        activity = transition_apply(
            activity,
            "accept",
            actor=actor,
            reason="accepted",
            accepted_details=chosen,
            sharing_period=sharing_period,
        )
        _share(activity, Party.RECEPTOR, chosen, "accepted_details")
        if activity.type == ActivityType.AUTHORIZATION:
            _receipt(activity, Party.RECEPTOR, [])
        if activity.type == ActivityType.SWAP:
            _share(activity, Party.INITIATOR, activity.offered_details, "offered_details")
    return activity


def activity_decline(*, activity: Activity, actor: Actor) -> Activity:
    _guard_pending(activity)
    return transition_apply(activity, "decline", actor=actor, reason="declined")


def activity_withdraw(*, activity: Activity, actor: Actor) -> Activity:
    """The initiator takes back a pending activity (→ CANCELED, reason withdrawn)."""
    _guard_pending(activity)
    return transition_apply(activity, "cancel", actor=actor, reason="withdrawn")


def activity_complete(*, activity: Activity, party: str, actor: Actor) -> Activity:
    """One party finalizes; when both have, the activity is COMPLETED."""
    if activity.effective_status() != ActivityStatus.ACCEPTED:
        raise StateConflict(f"Only an ACCEPTED activity can be completed; this one is {activity.effective_status()}.")
    field = f"{party}_completed_at"
    with transaction.atomic():
        locked = Activity.objects.select_for_update().get(pk=activity.pk)
        if locked.status != ActivityStatus.ACCEPTED:
            raise StateConflict(f"Only an ACCEPTED activity can be completed; this one is {locked.status}.")
        if getattr(locked, field) is None:
            setattr(locked, field, timezone.now())
            locked.save(update_fields=[field, "updated_at"])
        if locked.initiator_completed_at and locked.receptor_completed_at:
            locked = transition_apply(locked, "complete", actor=actor, reason="both parties finalized")
    return locked


def activity_revoke(*, activity: Activity, actor: Actor) -> Activity:
    """A party ends the sharing early (→ EXPIRED, reason revoked); the shared values are deleted."""
    if activity.effective_status() not in (ActivityStatus.ACCEPTED, ActivityStatus.COMPLETED):
        raise StateConflict(f"Nothing is being shared: the activity is {activity.effective_status()}.")
    return transition_apply(activity, "expire", actor=actor, reason="revoked")


def _sweep(*, sources: tuple[str, ...], deadline: str, target: str, actor: Actor, reason: str, batch_size: int) -> int:
    """One batch of a deadline sweep, set-based: lock up to `batch_size` overdue activities
    (skip-locked), move them to `target` and append their audit transitions (the event outbox)
    with the same states, event type, payload, actor and reason as transition_apply writes
    row by row. Leaving a sharing status deletes the shared snapshots, as Activity.expire does.
    """
    now = timezone.now()
    content_type = ContentType.objects.get_for_model(Activity)
    drop_snapshots = target == ActivityStatus.EXPIRED
    with transaction.atomic():
        if connection.vendor == "postgresql":
            count = _sweep_sql(sources, deadline, target, actor, reason, batch_size, now, content_type.pk)
        else:
            rows = list(
                Activity.objects.select_for_update(skip_locked=True)
                .filter(status__in=sources, **{f"{deadline}__lte": now})
                .order_by(deadline)
                .values_list("pk", "status", "type", "organization_id")[:batch_size]
            )
            ids = [row[0] for row in rows]
            Activity.objects.filter(pk__in=ids).update(status=target, updated_at=now)
            if drop_snapshots:
                SharedSnapshot.objects.filter(activity_id__in=ids).delete()
            Transition.objects.bulk_create(
                Transition(
                    content_type=content_type,
                    object_id=str(pk),
                    organization_id=organization_id,
                    from_state=from_state,
                    to_state=target,
                    event_type=Activity.EVENT_TYPE,
                    data=_swept_event_data(pk, type, target),
                    actor_type=actor.type,
                    actor_id=actor.id,
                    actor_label=actor.label[:200],
                    reason=reason,
                    created_at=now,
                )
                for pk, from_state, type, organization_id in rows
            )
            count = len(rows)
        if count:
            transitions_announce()
    return count


def _swept_event_data(pk: Any, type: str, target: str) -> dict[str, Any]:
    # Activity.event_data() of a CANCELED or EXPIRED activity: every view shows the final status.
    return {"id": str(pk), "type": type, "status": target, "initiator_status": target, "receptor_status": target}


def _sweep_sql(
    sources: tuple[str, ...],
    deadline: str,
    target: str,
    actor: Actor,
    reason: str,
    batch_size: int,
    now: Any,
    content_type_id: int,
) -> int:
    """PostgreSQL: the batch in one statement (lock, update, delete snapshots, insert transitions)."""
    activity = Activity._meta.db_table
    snapshot = SharedSnapshot._meta.db_table
    deadline_column = Activity._meta.get_field(deadline).column
    drop = ""
    if target == ActivityStatus.EXPIRED:  # table names come from the models
        drop = f", dropped AS (DELETE FROM {snapshot} s USING changed WHERE s.activity_id = changed.id)"  # noqa: S608
    # The statuses are written into the statement (they are the model's own constants) so that
    # the planner can use the partial deadline index, whose condition names them.
    statuses = ", ".join(f"'{ActivityStatus(status).value}'" for status in sources)
    sql = f"""
        WITH batch AS (
            SELECT id, status FROM {activity}
            WHERE status IN ({statuses}) AND {deadline_column} <= %(now)s
            ORDER BY {deadline_column} LIMIT %(limit)s FOR UPDATE SKIP LOCKED
        ), changed AS (
            UPDATE {activity} a SET status = %(target)s, updated_at = %(now)s FROM batch
            WHERE a.id = batch.id
            RETURNING a.id, batch.status AS from_state, a.type, a.organization_id
        ){drop}
        INSERT INTO {Transition._meta.db_table} (
            content_type_id, object_id, organization_id, from_state, to_state, event_type, data,
            actor_type, actor_id, actor_label, reason, created_at, published_at
        )
        SELECT %(content_type)s, changed.id::text, changed.organization_id, changed.from_state, %(target)s,
            %(event_type)s,
            jsonb_build_object('id', changed.id::text, 'type', changed.type, 'status', %(target)s::text,
                'initiator_status', %(target)s::text, 'receptor_status', %(target)s::text),
            %(actor_type)s, %(actor_id)s, %(actor_label)s, %(reason)s, %(now)s, NULL
        FROM changed
    """  # noqa: S608 - table and column names come from the models, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {
                "now": now,
                "limit": batch_size,
                "target": target,
                "content_type": content_type_id,
                "event_type": Activity.EVENT_TYPE,
                "actor_type": actor.type,
                "actor_id": actor.id,
                "actor_label": actor.label[:200],
                "reason": reason,
            },
        )
        return cursor.rowcount


def activities_cancel_overdue(*, batch_size: int = 500) -> int:
    """Beat sweep: pending past valid_until → CANCELED. Batched, skip-locked, idempotent."""
    return _sweep(
        sources=(ActivityStatus.PENDING,),
        deadline="valid_until",
        target=ActivityStatus.CANCELED,
        actor=Actor.system("validity sweep"),
        reason="validity period ended",
        batch_size=batch_size,
    )


def activities_expire_overdue(*, batch_size: int = 500) -> int:
    """Beat sweep: ACCEPTED or COMPLETED past sharing_until → EXPIRED, shared values deleted."""
    return _sweep(
        sources=(ActivityStatus.ACCEPTED, ActivityStatus.COMPLETED),
        deadline="sharing_until",
        target=ActivityStatus.EXPIRED,
        actor=Actor.system("sharing sweep"),
        reason="sharing period ended",
        batch_size=batch_size,
    )
