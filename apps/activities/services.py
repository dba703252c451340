"""Writes for consent activities (seed 000): create, answer, complete, withdraw, revoke, timers."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from apps.activities.models import (
    SHARING_STATUSES,
    Activity,
    ActivityStatus,
    ActivityType,
    ConsentReceipt,
    Party,
    SharedSnapshot,
)
from apps.activities.selectors import (
    activity_bioface_accepted,
    person_activities,
)
from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.services import (
    Actor,
    sweep_overdue_batches,
    transition_apply,
    transition_record,
    transitions_apply_bulk,
)
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.organizations.models import Organization
from apps.people.models import PersonalDetail, User

DEFAULT_VALID_FOR = timedelta(days=7)


class PartyForbidden(Exception):
    """The caller may not act for this party (HTTP 403)."""


class NotManaged(PartyForbidden):
    """Details of an identity the platform does not operate would leave without the person's act
    (HTTP 403 `not_managed`)."""

    code = "not_managed"


# A receipt of an authorization keeps what was authorized as its purpose, after this prefix.
AUTHORIZED_PREFIX = "Authorized: "


class FaceCheckRequired(StateConflict):
    """An authorization that requires a face check was approved before one was accepted (HTTP 409)."""


def _as_uuid(value: Any) -> UUID | None:
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        return None


def _parties(
    organization: Organization, initiator_id: Any, receptor_id: Any
) -> tuple[ExternalPersonalIdentity, ExternalPersonalIdentity]:
    """Both identities of a new activity, in one query; each must be the organization's."""
    initiator_id, receptor_id = _as_uuid(initiator_id), _as_uuid(receptor_id)
    found = {
        i.pk: i
        for i in ExternalPersonalIdentity.objects.filter(
            organization=organization, pk__in={i for i in (initiator_id, receptor_id) if i}
        )
    }
    errors = {
        field: ["No such identity in this organization."]
        for field, identity_id in (("initiator_id", initiator_id), ("receptor_id", receptor_id))
        if identity_id not in found
    }
    if errors:
        raise ValidationError(errors)
    return found[initiator_id], found[receptor_id]


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
        raise ValidationError(
            {
                field: [
                    ValidationError(
                        "No value to share for: %(details)s.",
                        code="missing_value",
                        params={"details": ", ".join(missing)},
                    )
                ]
            }
        )
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
            f"{AUTHORIZED_PREFIX}{(activity.authorization or {}).get('description', '')}"
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
    person: User | None = None,
) -> Activity:
    """Create an activity between two ACTIVE identities; AT_002 is created already ACCEPTED.

    `person` is the signed-in person starting it from their own page (None for the API): a
    share or swap gives the initiator's details, so it needs a managed initiator or that
    initiator's own person (NotManaged otherwise, before anything is created).
    """
    requirements, offered = list(requirements or []), list(offered_details or [])
    _type_rules(type, requirements, offered, sharing_period, authorization)
    initiator, receptor = _parties(organization, initiator_id, receptor_id)
    if initiator.pk == receptor.pk:
        raise ValidationError({"receptor_id": ["The receptor must be another identity than the initiator."]})
    gives_details = type in (ActivityType.SHARE, ActivityType.SWAP)
    own_act = person is not None and initiator.person_id is not None and initiator.person_id == person.pk
    if gives_details and not initiator.managed and not own_act:
        raise NotManaged(
            "The initiator identity is not managed: only the person can share or swap their own details, "
            "from their page."
        )
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
        transition_record(
            subject=activity, from_state="", to_state=activity.status, actor=actor, reason=reasons.CREATED
        )
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
    unrequested = [d for d in chosen if d not in requested]
    errors: dict[str, list[ValidationError]] = {}
    if unrequested:
        errors["accepted_details"] = [
            ValidationError(
                "Not requested: %(details)s.", code="not_requested", params={"details": ", ".join(unrequested)}
            )
        ]
    elif missing := [d for d in required if d not in chosen]:
        errors["accepted_details"] = [
            ValidationError(
                "Required details cannot be left out: %(details)s.",
                code="required_left_out",
                params={"details": ", ".join(missing)},
            )
        ]
    if activity.type in (ActivityType.REQUEST, ActivityType.SWAP) and sharing_period is None:
        errors["sharing_period"] = [ValidationError("Choose how long the details are shared.", code="period_required")]
    if activity.type == ActivityType.AUTHORIZATION and sharing_period is not None:
        errors["sharing_period"] = [
            ValidationError("An authorization shares no details, so it has no sharing period.", code="period_refused")
        ]
    if errors:
        raise ValidationError(errors)
    auth = activity.authorization or {}
    if (
        activity.type == ActivityType.AUTHORIZATION
        and auth.get("requires_bioface")
        and not activity_bioface_accepted(activity=activity)
    ):
        raise FaceCheckRequired("This authorization needs an accepted FaceTec verification of the receptor first.")
    with transaction.atomic():
        activity = transition_apply(
            activity,
            "accept",
            actor=actor,
            reason=reasons.ACCEPTED,
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
    return transition_apply(activity, "decline", actor=actor, reason=reasons.DECLINED)


def activity_withdraw(*, activity: Activity, actor: Actor) -> Activity:
    """The initiator takes back a pending activity (→ CANCELED, reason withdrawn)."""
    _guard_pending(activity)
    return transition_apply(activity, "cancel", actor=actor, reason=reasons.WITHDRAWN)


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
            locked = transition_apply(locked, "complete", actor=actor, reason=reasons.BOTH_PARTIES_FINALIZED)
    return locked


def activity_revoke(*, activity: Activity, actor: Actor) -> Activity:
    """A party ends the sharing early (→ EXPIRED, reason revoked); the shared values are deleted."""
    if activity.effective_status() not in (ActivityStatus.ACCEPTED, ActivityStatus.COMPLETED):
        raise StateConflict(f"Nothing is being shared: the activity is {activity.effective_status()}.")
    return transition_apply(activity, "expire", actor=actor, reason=reasons.REVOKED)


# A sweep batch holds its row locks for its whole duration; the size of the next batch is
# chosen so that it takes about SWEEP_BATCH_SECONDS at the per-row cost just measured. The
# fixed cost of a batch (transaction, statement, relay wake-up) is about 2 ms, 4% of 50 ms, and
# 50 ms leaves room under the 250 ms bound for a batch slowed down by a checkpoint or other load.
SWEEP_BATCH_SECONDS = 0.05
SWEEP_BATCH_FIRST = 500
SWEEP_BATCH_MIN = 50
SWEEP_BATCH_MAX = 5000

_VALIDITY, _SHARING = Activity.DEADLINES


def activities_sweep_batches(
    *,
    batch_seconds: float = SWEEP_BATCH_SECONDS,
    first_batch: int = SWEEP_BATCH_FIRST,
    min_batch: int = SWEEP_BATCH_MIN,
    max_batch: int = SWEEP_BATCH_MAX,
) -> Iterator[tuple[int, float]]:
    """Both deadline sweeps (Activity.DEADLINES) to the end, batch by batch, set-based through
    the audit's bulk transitions: yields (activities changed, seconds) for every batch that
    changed something (apps.audit.services.sweep_overdue_batches)."""
    return sweep_overdue_batches(
        Activity, batch_seconds=batch_seconds, first_batch=first_batch, min_batch=min_batch, max_batch=max_batch
    )


def activities_cancel_overdue(*, batch_size: int = 500) -> int:
    """One batch: pending past valid_until → CANCELED. Skip-locked, idempotent."""
    return transitions_apply_bulk(Activity, _VALIDITY, batch_size=batch_size)[0]


def activities_expire_overdue(*, batch_size: int = 500) -> int:
    """One batch: ACCEPTED or COMPLETED past sharing_until → EXPIRED, shared values deleted."""
    return transitions_apply_bulk(Activity, _SHARING, batch_size=batch_size)[0]


def activities_forget_person(*, person: User, actor: Actor) -> dict[str, int]:
    """A person's account is being deleted (apps.portal.services.person_delete): every sharing they
    are a party to ends now (→ EXPIRED, shared values deleted), every request still waiting is
    declined or withdrawn, and no snapshot of theirs nor receipt of their consents is left.
    Each change goes through the activity state machine, so it is audited and emitted."""
    counts = {"sharings_ended": 0, "requests_closed": 0}
    activity_ids = []
    for mine in person_activities(person=person):
        activity = mine.activity
        activity_ids.append(activity.pk)
        try:
            if activity.status in SHARING_STATUSES:
                if activity.effective_status() == ActivityStatus.EXPIRED:
                    # Past its end but not yet swept: end it as the sweep would.
                    transition_apply(activity, "expire", actor=actor, reason=reasons.SHARING_PERIOD_ENDED)
                else:
                    activity_revoke(activity=activity, actor=actor)
                counts["sharings_ended"] += 1
            elif activity.effective_status() == ActivityStatus.PENDING:
                if mine.party == Party.RECEPTOR:
                    activity_decline(activity=activity, actor=actor)
                else:
                    activity_withdraw(activity=activity, actor=actor)
                counts["requests_closed"] += 1
        except StateConflict:
            # Changed concurrently (answered, swept): whatever it became, nothing of it is left below.
            pass
    # Belt and braces: no snapshot of an activity of theirs survives, whatever its state.
    SharedSnapshot.objects.filter(activity_id__in=activity_ids).delete()
    ConsentReceipt.objects.filter(person=person).delete()
    return counts
