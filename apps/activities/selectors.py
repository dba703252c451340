from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import CharField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy

from apps.activities.models import (
    SHARING_STATUSES,
    SHOWN_PENDING,
    Activity,
    ActivityStatus,
    ActivityType,
    ConsentReceipt,
    Party,
    SharedSnapshot,
    StatusWord,
)
from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.models import Transition
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.organizations.models import Organization
from apps.people.models import User
from apps.people.vocabulary import detail_display_label
from apps.verifications.models import ProcessStatus, VerificationProcess

GONE_STATUSES = (ActivityStatus.EXPIRED,)


class DetailsGone(Exception):
    """The shared values existed and were purged (HTTP 410)."""


def activity_get(*, organization: Organization, activity_id: Any, parties: bool = True) -> Activity | None:
    """The organization's activity. `parties` joins both identities, for the writes that check
    them; a read that shows the activity alone skips the joins (and decrypting the identities'
    names and emails it would not show). The caller's organization is attached, not joined."""
    qs = Activity.objects.filter(organization=organization)
    if parties:
        qs = qs.select_related("initiator", "receptor")
    try:
        activity = qs.get(pk=activity_id)  # get(): no ORDER BY to compile, unlike first()
    except Activity.DoesNotExist:
        return None
    activity.organization = organization
    return activity


def activity_list(
    *,
    organization: Organization,
    status: str | None = None,
    type: str | None = None,
    party_id: Any = None,
    party: str | None = None,
) -> QuerySet[Activity]:
    """Filter by shown status (SENT / ACTION_REQUIRED count as pending, overdue rows as what they became)."""
    qs = Activity.objects.filter(organization=organization).select_related("initiator", "receptor")
    if type:
        qs = qs.filter(type=type)
    if party_id:
        qs = (
            qs.filter(**{f"{party}_id": party_id})
            if party
            else qs.filter(Q(initiator_id=party_id) | Q(receptor_id=party_id))
        )
    if status:
        qs = qs.filter(_shown_status(status))
    return qs


def _shown_status(status: str) -> Q:
    """Activities whose shown status is `status` (SENT and ACTION_REQUIRED both mean pending;
    an overdue row counts as what it became, before the sweep has run)."""
    now = timezone.now()
    pending = Q(status=ActivityStatus.PENDING, valid_until__gt=now)
    overdue_pending = Q(status=ActivityStatus.PENDING, valid_until__lte=now)
    sharing = Q(status__in=[ActivityStatus.ACCEPTED, ActivityStatus.COMPLETED])
    overdue_sharing = sharing & Q(sharing_until__lte=now)
    by_status = {
        "SENT": pending,
        "ACTION_REQUIRED": pending,
        ActivityStatus.CANCELED: Q(status=ActivityStatus.CANCELED) | overdue_pending,
        ActivityStatus.EXPIRED: Q(status=ActivityStatus.EXPIRED) | overdue_sharing,
        ActivityStatus.ACCEPTED: Q(status=ActivityStatus.ACCEPTED) & ~overdue_sharing,
        ActivityStatus.COMPLETED: Q(status=ActivityStatus.COMPLETED) & ~overdue_sharing,
        ActivityStatus.DECLINED: Q(status=ActivityStatus.DECLINED),
    }
    return by_status[status]


def activity_details(*, activity: Activity, party: str) -> dict[str, Any]:
    """What `party` received and gave: only while ACCEPTED/COMPLETED inside the sharing period."""
    status = activity.effective_status()
    if status in GONE_STATUSES:
        raise DetailsGone("The sharing period is over and the shared values were deleted.")
    if status not in (ActivityStatus.ACCEPTED, ActivityStatus.COMPLETED):
        raise StateConflict(f"Nothing is shared while the activity is {activity.status_for(party)}.")
    snapshots = {s.giver: s.values for s in SharedSnapshot.objects.filter(activity=activity)}
    other = Party.RECEPTOR if party == Party.INITIATOR else Party.INITIATOR
    return {
        "activity_id": str(activity.pk),
        "status": status,
        "sharing_until": activity.sharing_until,
        "received": snapshots.get(other, {}),
        "given": snapshots.get(party, {}),
    }


# --- The person's side (pages under /me/) -----------------------------------------------


_ = gettext_lazy
# (party, type) → (while pending, once sharing, otherwise): the headline follows the state.
HEADLINES: dict[tuple[str, str], tuple[Any, Any, Any]] = {
    (Party.RECEPTOR, ActivityType.REQUEST): (
        _("%(who)s asks for your details"),
        _("%(who)s asked for your details"),
        _("%(who)s asked for your details"),
    ),
    (Party.RECEPTOR, ActivityType.SHARE): (
        _("%(who)s shared details with you"),
        _("%(who)s shared details with you"),
        _("%(who)s shared details with you"),
    ),
    (Party.RECEPTOR, ActivityType.SWAP): (
        _("%(who)s proposes to swap details with you"),
        _("You swapped details with %(who)s"),
        _("%(who)s proposed to swap details with you"),
    ),
    (Party.RECEPTOR, ActivityType.AUTHORIZATION): (
        _("%(who)s asks for your authorization"),
        _("You gave %(who)s your authorization"),
        _("%(who)s asked for your authorization"),
    ),
    (Party.INITIATOR, ActivityType.REQUEST): (
        _("You asked %(who)s for details"),
        _("You asked %(who)s for details"),
        _("You asked %(who)s for details"),
    ),
    (Party.INITIATOR, ActivityType.SHARE): (
        _("You shared details with %(who)s"),
        _("You shared details with %(who)s"),
        _("You shared details with %(who)s"),
    ),
    (Party.INITIATOR, ActivityType.SWAP): (
        _("You proposed to swap details with %(who)s"),
        _("You swapped details with %(who)s"),
        _("You proposed to swap details with %(who)s"),
    ),
    (Party.INITIATOR, ActivityType.AUTHORIZATION): (
        _("You asked %(who)s for an authorization"),
        _("%(who)s gave you their authorization"),
        _("You asked %(who)s for an authorization"),
    ),
}
del _


@dataclass(frozen=True)
class PersonActivity:
    """An activity as one signed-in person sees it: through their own identity's party."""

    activity: Activity
    party: str
    status: str
    # The audit trail's reason for the activity's last transition (how it ended).
    end_reason: str = ""

    @property
    def counterpart(self) -> Any:
        return self.activity.identity_of(Party.INITIATOR if self.party == Party.RECEPTOR else Party.RECEPTOR)

    @property
    def counterpart_name(self) -> str:
        other = self.counterpart
        return f"{other.first_name} {other.last_name}".strip()

    @property
    def headline(self) -> str:
        """The one-line summary from the person's side, in the active language."""
        pending, sharing, other = HEADLINES[(self.party, self.activity.type)]
        text = pending if self.is_pending else sharing if self.is_sharing else other
        return str(text) % {"who": self.counterpart_name}

    @property
    def word(self) -> StatusWord:
        """The shown status, with a canceled or expired activity named by why it ended."""
        if self.status == ActivityStatus.CANCELED:
            if self.activity.status == ActivityStatus.PENDING or self.end_reason == reasons.VALIDITY_PERIOD_ENDED:
                return StatusWord.TIMED_OUT
            return StatusWord.WITHDRAWN if self.end_reason == reasons.WITHDRAWN else StatusWord.CANCELED
        if self.status == ActivityStatus.EXPIRED:
            return StatusWord.REVOKED if self.end_reason == reasons.REVOKED else StatusWord.EXPIRED
        return StatusWord(self.status)

    @property
    def status_label(self) -> str:
        return str(self.word.label)

    @property
    def gives(self) -> list[str]:
        return details_given(self.activity, self.party)

    @property
    def receives(self) -> list[str]:
        return details_given(self.activity, Party.INITIATOR if self.party == Party.RECEPTOR else Party.RECEPTOR)

    @property
    def gives_labels(self) -> list[str]:
        return [detail_label(name) for name in self.gives]

    @property
    def receives_labels(self) -> list[str]:
        return [detail_label(name) for name in self.receives]

    @property
    def is_pending(self) -> bool:
        return self.status in SHOWN_PENDING.values()

    @property
    def is_sharing(self) -> bool:
        return self.status in SHARING_STATUSES

    @property
    def completed_by_me(self) -> bool:
        return getattr(self.activity, f"{self.party}_completed_at") is not None


def detail_label(name: str) -> str:
    return detail_display_label(name)


def details_given(activity: Activity, party: str) -> list[str]:
    """The detail names `party` gives (or, while pending, would give) in `activity`."""
    if party == Party.RECEPTOR:
        if activity.type not in (ActivityType.REQUEST, ActivityType.SWAP):
            return []
        if activity.status == ActivityStatus.PENDING:
            return [r["detail"] for r in activity.requirements]
        return list(activity.accepted_details)
    return list(activity.offered_details) if activity.type in (ActivityType.SHARE, ActivityType.SWAP) else []


def _as_person(activity: Activity, person: User) -> PersonActivity:
    # A person holding both identities answers as the receptor: that is the side with something to decide.
    party = Party.RECEPTOR if activity.receptor.person_id == person.pk else Party.INITIATOR
    return PersonActivity(
        activity=activity,
        party=party,
        status=activity.status_for(party),
        end_reason=getattr(activity, "end_reason", None) or "",
    )


def _end_reason() -> Subquery:
    """The reason of the activity's last transition, from the audit trail."""
    return Subquery(
        Transition.objects.filter(
            content_type=ContentType.objects.get_for_model(Activity),
            object_id=Cast(OuterRef("pk"), output_field=CharField()),
        )
        .order_by("-id")
        .values("reason")[:1]
    )


def _person_activities_qs(person: User) -> QuerySet[Activity]:
    return (
        Activity.objects.select_related("initiator", "receptor", "organization")
        .filter(Q(receptor__person=person) | Q(initiator__person=person))
        .annotate(end_reason=_end_reason())
    )


def person_activities(*, person: User) -> list[PersonActivity]:
    """Every activity where one of the person's identities is a party, newest first."""
    return [_as_person(a, person) for a in _person_activities_qs(person).order_by("-created_at")]


def person_activity_list(*, person: User, status: str | None = None) -> QuerySet[Activity]:
    """The activities of person_activities as a queryset (for pagination), filtered by the
    status the person sees: ACTION_REQUIRED where they are the receptor, SENT where they are the
    initiator only (a person holding both identities answers as the receptor, see _as_person)."""
    qs = _person_activities_qs(person)
    if status:
        qs = qs.filter(_shown_status(status))
        if status == "ACTION_REQUIRED":
            qs = qs.filter(receptor__person=person)
        elif status == "SENT":
            qs = qs.exclude(receptor__person=person)
    return qs


def person_activity_as(*, person: User, activity: Activity) -> PersonActivity:
    """One activity of person_activity_list as the person sees it."""
    return _as_person(activity, person)


def person_activity_get(*, person: User, activity_id: Any) -> PersonActivity | None:
    """The activity if one of the person's identities is a party; None otherwise (a 404, never a 403)."""
    activity = _person_activities_qs(person).filter(pk=activity_id).first()
    return _as_person(activity, person) if activity else None


@dataclass(frozen=True)
class SharingGroup:
    """Sharings alike from the person's side (same person on the other side, same organization,
    same type, same details each way): /me/ shows them as one row, the one that lasts longest first."""

    items: tuple[PersonActivity, ...]

    @property
    def first(self) -> PersonActivity:
        return self.items[0]

    @property
    def count(self) -> int:
        return len(self.items)


def _sharing_key(mine: PersonActivity) -> tuple[Any, ...]:
    activity = mine.activity
    authorization = (activity.authorization or {}).get("description", "")
    return (mine.counterpart.pk, activity.type, tuple(mine.gives), tuple(mine.receives), authorization)


def _latest_end(mine: PersonActivity) -> tuple[bool, Any]:
    until = mine.activity.sharing_until
    return (until is not None, until)


def person_sharing_groups(activities: list[PersonActivity]) -> list[SharingGroup]:
    """The sharings of `activities` grouped by what /me/ would show identically, soonest end first."""
    groups: dict[tuple[Any, ...], list[PersonActivity]] = {}
    for mine in activities:
        if mine.is_sharing:
            groups.setdefault(_sharing_key(mine), []).append(mine)
    ordered = [SharingGroup(items=tuple(sorted(items, key=_latest_end, reverse=True))) for items in groups.values()]
    return sorted(ordered, key=lambda g: (g.first.activity.sharing_until is None, g.first.activity.sharing_until))


def person_sharing_group(*, person: User, mine: PersonActivity) -> SharingGroup:
    """The group of `mine` among the person's sharings (itself alone if nothing else is alike)."""
    key = _sharing_key(mine)
    for group in person_sharing_groups(person_activities(person=person)):
        if _sharing_key(group.first) == key:
            return group
    return SharingGroup(items=(mine,))


@dataclass(frozen=True)
class ShareCounterpart:
    """Someone a person may start a share or swap with: an identity of one of their organizations
    they already had an activity with (`other`), reached through their own identity there (`own`)."""

    own: ExternalPersonalIdentity
    other: ExternalPersonalIdentity

    @property
    def key(self) -> str:
        return f"{self.own.pk}:{self.other.pk}"

    @property
    def name(self) -> str:
        return f"{self.other.first_name} {self.other.last_name}".strip()


def person_share_counterparts(*, person: User) -> list[ShareCounterpart]:
    """Whom the person may share details with or propose a swap to, from their page.

    Only identities the person already dealt with in an activity, in an organization where their
    own identity is ACTIVE, and that are ACTIVE themselves: the page never lists an organization's
    other members, whose names and very presence the person has no business seeing."""
    pairs: dict[tuple[Any, Any], ShareCounterpart] = {}
    activities = _person_activities_qs(person).filter(
        initiator__state=IdentityState.ACTIVE, receptor__state=IdentityState.ACTIVE
    )
    for activity in activities.order_by("-created_at"):
        for own, other in ((activity.initiator, activity.receptor), (activity.receptor, activity.initiator)):
            if own.person_id == person.pk and other.person_id != person.pk:
                own.organization = activity.organization  # already joined; saves a query per row
                pairs.setdefault((own.pk, other.pk), ShareCounterpart(own=own, other=other))
    return sorted(pairs.values(), key=lambda c: (c.own.organization.name.lower(), c.name.lower()))


def person_receipts(*, person: User) -> QuerySet[ConsentReceipt]:
    return ConsentReceipt.objects.filter(person=person).select_related("activity")


def person_receipt_get(*, person: User, receipt_id: Any) -> ConsentReceipt | None:
    return person_receipts(person=person).filter(pk=receipt_id).first()


def activity_bioface_processes(*, activity: Activity) -> QuerySet[VerificationProcess]:
    """The receptor's verification processes started for this authorization, newest first."""
    return VerificationProcess.objects.filter(activity=activity, identity=activity.receptor_id).order_by("-created_at")


def activity_bioface_accepted(*, activity: Activity) -> bool:
    """An accepted FaceTec check of the receptor for this activity (or a sandbox one replaying FaceTec).

    activity_accept requires it for an AT_004 with requires_bioface; the consent page shows it."""
    facetec = Q(provider="facetec")
    if settings.SANDBOX_ENABLED:
        # A sandbox face check counts only where the sandbox exists (never in production).
        facetec |= Q(provider="sandbox", sandbox_provider="facetec")
    return activity_bioface_processes(activity=activity).filter(facetec, status=ProcessStatus.ACCEPTED).exists()


def person_values_shared_with(*, organization: Organization, person: User) -> dict[str, Any]:
    """The detail values `person` shares with `organization` right now: what the snapshots of its
    ACCEPTED/COMPLETED activities hold, inside their sharing period, where the person's identity
    gave them. The latest sharing wins where two hold the same detail."""
    now = timezone.now()
    snapshots = (
        SharedSnapshot.objects.filter(
            activity__organization=organization,
            activity__status__in=SHARING_STATUSES,
            activity__sharing_until__gt=now,
        )
        .filter(
            Q(giver=Party.INITIATOR, activity__initiator__person=person)
            | Q(giver=Party.RECEPTOR, activity__receptor__person=person)
        )
        .order_by("created_at", "id")
    )
    values: dict[str, Any] = {}
    for snapshot in snapshots:
        values.update(snapshot.values or {})
    return values
