from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.activities.models import Activity, ActivityStatus, Party, SharedSnapshot
from apps.audit.errors import StateConflict
from apps.organizations.models import Organization

GONE_STATUSES = (ActivityStatus.EXPIRED,)


class DetailsGone(Exception):
    """The shared values existed and were purged (HTTP 410)."""


def activity_get(*, organization: Organization, activity_id: Any) -> Activity | None:
    return (
        Activity.objects.select_related("initiator", "receptor", "organization")
        .filter(organization=organization, pk=activity_id)
        .first()
    )


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
        qs = qs.filter(by_status[status])
    return qs


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
