from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from apps.activities.models import Party
from apps.activities.selectors import person_activities, person_receipts
from apps.people.selectors import person_details

HISTORY_LIMIT = 50


@never_cache
@login_required
def me(request: HttpRequest) -> HttpResponse:
    """The person's own page: requests to answer, what they share with whom until when, receipts,
    history, and their details with provenance and who knows them."""
    identities = request.user.identities.select_related("organization").order_by("-created_at")
    activities = person_activities(person=request.user)
    inbox = [a for a in activities if a.is_pending and a.party == Party.RECEPTOR]
    sent = [a for a in activities if a.is_pending and a.party == Party.INITIATOR]
    # Soonest end first: what is about to stop matters most.
    sharing = sorted(
        (a for a in activities if a.is_sharing),
        key=lambda a: (a.activity.sharing_until is None, a.activity.sharing_until),
    )
    history = [a for a in activities if not a.is_pending and not a.is_sharing][:HISTORY_LIMIT]
    return render(
        request,
        "people/me.html",
        {
            "details": person_details(person=request.user),
            "identities": identities,
            "inbox": inbox,
            "sent": sent,
            "sharing": sharing,
            "history": history,
            "receipts": person_receipts(person=request.user),
        },
    )
