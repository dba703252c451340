from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.activities.models import Party
from apps.activities.selectors import person_activities, person_receipts
from apps.people.forms import AccountDeleteForm, PersonalDetailsForm
from apps.people.selectors import person_details, person_identifications, person_sessions
from apps.people.services import AccountNotDeletable, person_delete, person_details_update

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
            "sessions": person_sessions(person=request.user)[:HISTORY_LIMIT],
            "identifications": person_identifications(person=request.user)[:HISTORY_LIMIT],
            "receipts": person_receipts(person=request.user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def details_edit(request: HttpRequest) -> HttpResponse:
    """Edit self-declared details; verified ones are shown read-only with their provenance."""
    details = person_details(person=request.user)
    if request.method == "GET":
        form = PersonalDetailsForm(details=details)
        return render(request, "people/details_edit.html", {"form": form, "details": details})
    form = PersonalDetailsForm(request.POST, details=details)
    if form.is_valid():
        try:
            person_details_update(person=request.user, details=form.changes())
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Your details have been saved."))
            return redirect("people:me")
    return render(request, "people/details_edit.html", {"form": form, "details": details}, status=400)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: HttpRequest) -> HttpResponse:
    """Confirm with the password, then end every sharing, purge the data and delete the account."""
    form = AccountDeleteForm(request.POST or None, user=request.user)
    activities = person_activities(person=request.user)
    context = {
        "form": form,
        "sharing_count": sum(1 for a in activities if a.is_sharing),
        "pending_count": sum(1 for a in activities if a.is_pending),
        "staff": request.user.is_staff or request.user.is_superuser or request.user.memberships.exists(),
    }
    if request.method == "GET":
        return render(request, "people/delete.html", context)
    if not form.is_valid():
        return render(request, "people/delete.html", context, status=400)
    try:
        person_delete(person=request.user)
    except AccountNotDeletable:
        form.add_error(None, _("Staff accounts are removed by an administrator, not from this page."))
        return render(request, "people/delete.html", context, status=409)
    logout(request)
    return redirect("people:goodbye")


def goodbye(request: HttpRequest) -> HttpResponse:
    return render(request, "people/goodbye.html")
