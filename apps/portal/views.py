"""The person's pages that show several apps at once: /me/ itself, the proposed updates of
their verifications, and account deletion."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.activities.models import Party
from apps.activities.selectors import person_activities, person_receipts, person_sharing_groups
from apps.audit.errors import StateConflict
from apps.identifications.selectors import person_identifications
from apps.oauth.selectors import person_connections
from apps.people.forms import AccountDeleteForm
from apps.people.models import DetailProposal, PersonalDetail, ProposalStatus
from apps.people.requests import PersonRequest
from apps.people.selectors import person_detail_proposal_get, person_detail_proposals, person_details
from apps.people.services import ProposalNotFound, detail_proposal_confirm, detail_proposal_dismiss
from apps.people.vocabulary import detail_display_label
from apps.portal.services import AccountNotDeletable, person_delete
from apps.transfers.selectors import person_sessions
from apps.verifications.selectors import person_processes

HISTORY_LIMIT = 50


@dataclass(frozen=True)
class ProposedUpdate:
    """A proposal as the person reads it: before, after, and where it comes from."""

    proposal: DetailProposal
    current: PersonalDetail | None
    organization_name: str
    is_new: bool


def _proposed_updates(person: Any, details: list[PersonalDetail]) -> list[ProposedUpdate]:
    current = {d.name: d for d in details}
    proposals = person_detail_proposals(person=person)
    organizations = {
        p.pk: p.organization.name
        for p in person_processes(person=person).filter(pk__in=[proposal.process_id for proposal in proposals])
    }
    return [
        ProposedUpdate(
            proposal=proposal,
            current=current.get(proposal.name),
            organization_name=organizations.get(proposal.process_id, ""),
            is_new=proposal.name not in current,
        )
        for proposal in proposals
    ]


@never_cache
@login_required
def me(request: PersonRequest) -> HttpResponse:
    """The person's own page: requests to answer, what they share with whom until when, receipts,
    history, and their details with provenance and who knows them."""
    identities = request.user.identities.select_related("organization").order_by("-created_at")
    activities = person_activities(person=request.user)
    inbox = [a for a in activities if a.is_pending and a.party == Party.RECEPTOR]
    sent = [a for a in activities if a.is_pending and a.party == Party.INITIATOR]
    # Soonest end first: what is about to stop matters most. Identical sharings are one row.
    sharing = person_sharing_groups(activities)
    history = [a for a in activities if not a.is_pending and not a.is_sharing][:HISTORY_LIMIT]
    details = person_details(person=request.user)
    return render(
        request,
        "people/me.html",
        {
            "details": details,
            "proposed_updates": _proposed_updates(request.user, details),
            "processes": person_processes(person=request.user)[:HISTORY_LIMIT],
            "identities": identities,
            "inbox": inbox,
            "sent": sent,
            "sharing": sharing,
            "history": history,
            "sessions": person_sessions(person=request.user)[:HISTORY_LIMIT],
            "identifications": person_identifications(person=request.user)[:HISTORY_LIMIT],
            "receipts": person_receipts(person=request.user),
            "connected_apps": person_connections(person=request.user),
        },
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request: PersonRequest) -> HttpResponse:
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


def _proposal_or_404(request: PersonRequest, proposal_id: UUID) -> ProposedUpdate:
    proposal = person_detail_proposal_get(person=request.user, proposal_id=proposal_id)
    if proposal is None:
        raise Http404(_("No such proposed update."))
    details = person_details(person=request.user)
    current = next((d for d in details if d.name == proposal.name), None)
    process = person_processes(person=request.user).filter(pk=proposal.process_id).first()
    return ProposedUpdate(
        proposal=proposal,
        current=current,
        organization_name=process.organization.name if process else "",
        is_new=current is None,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def proposal_confirm(request: PersonRequest, proposal_id: UUID) -> HttpResponse:
    """The confirmation step: before and after side by side, then the person's own act replaces it."""
    update = _proposal_or_404(request, proposal_id)
    if update.proposal.status != ProposalStatus.PENDING:
        return render(request, "people/proposal_confirm.html", {"update": update}, status=409)
    if request.method == "GET":
        return render(request, "people/proposal_confirm.html", {"update": update})
    try:
        detail = detail_proposal_confirm(person=request.user, proposal_id=proposal_id)
    except ProposalNotFound:
        raise Http404(_("No such proposed update.")) from None
    except StateConflict:
        return render(request, "people/proposal_confirm.html", {"update": update}, status=409)
    messages.success(
        request,
        _("%(detail)s is now %(value)s, verified.")
        % {"detail": detail_display_label(detail.name), "value": detail.value},
    )
    return redirect(reverse("people:me") + "#proposals-heading")


@never_cache
@login_required
@require_POST
def proposal_dismiss(request: PersonRequest, proposal_id: UUID) -> HttpResponse:
    """The person keeps their own value; the proposed one is forgotten."""
    update = _proposal_or_404(request, proposal_id)
    try:
        detail_proposal_dismiss(person=request.user, proposal_id=proposal_id)
    except StateConflict:
        return render(request, "people/proposal_confirm.html", {"update": update}, status=409)
    messages.success(
        request,
        _("Dismissed: your %(detail)s stays as it is.") % {"detail": detail_display_label(update.proposal.name)},
    )
    return redirect(reverse("people:me") + "#proposals-heading")
