"""The person's side of consent activities, under /me/: answer, follow, revoke, and keep receipts."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from apps.activities.forms import SHARING_PERIODS, ConsentForm, StartActivityForm
from apps.activities.models import ActivityStatus, ActivityType, Party
from apps.activities.selectors import (
    DetailsGone,
    PersonActivity,
    activity_bioface_accepted,
    activity_bioface_processes,
    activity_details,
    person_activity_get,
    person_receipt_get,
    person_receipts,
    person_share_counterparts,
)
from apps.activities.services import (
    PartyForbidden,
    activity_accept,
    activity_complete,
    activity_create,
    activity_decline,
    activity_revoke,
)
from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.people.requests import PersonRequest
from apps.people.selectors import person_details
from apps.people.vocabulary import detail_display_label as detail_label
from apps.verifications.links import process_url
from apps.verifications.models import OPEN_STATUSES
from apps.verifications.services import process_create


def _get(request: PersonRequest, activity_id: UUID, *, receptor_only: bool = False) -> PersonActivity:
    """The activity seen through the person's own identity; anyone else gets 404, never a hint it exists."""
    mine = person_activity_get(person=request.user, activity_id=activity_id)
    if mine is None or (receptor_only and mine.party != Party.RECEPTOR):
        raise Http404(_("No such activity."))
    return mine


def _shared_values(mine: PersonActivity) -> dict[str, Any]:
    """What was given and received, as label → value, while the sharing lasts."""
    if not mine.is_sharing:
        return {"given": {}, "received": {}}
    try:
        details = activity_details(activity=mine.activity, party=mine.party)
    except (DetailsGone, StateConflict):
        return {"given": {}, "received": {}}
    return {key: {detail_label(name): value for name, value in details[key].items()} for key in ("given", "received")}


def _render(
    request: PersonRequest,
    mine: PersonActivity,
    form: ConsentForm | None = None,
    *,
    conflict: str = "",
    status: int = 200,
) -> HttpResponse:
    activity = mine.activity
    bioface = (activity.authorization or {}).get("requires_bioface", False)
    if form is None and mine.party == Party.RECEPTOR and mine.is_pending:
        form = ConsentForm(activity=activity, values={d.name: d for d in person_details(person=request.user)})
    processes = activity_bioface_processes(activity=activity) if bioface and mine.party == Party.RECEPTOR else None
    latest = processes.first() if processes is not None else None
    context = {
        "mine": mine,
        "activity": activity,
        "form": form,
        "conflict": conflict,
        "offered": [detail_label(d) for d in activity.offered_details],
        "requested": [
            {"label": detail_label(r["detail"]), "required": r.get("required")} for r in activity.requirements
        ],
        "accepted_labels": [detail_label(d) for d in activity.accepted_details],
        "shared": _shared_values(mine),
        "receipts": person_receipts(person=request.user).filter(activity=activity),
        "bioface": bioface,
        "bioface_passed": bioface and activity_bioface_accepted(activity=activity),
        "bioface_latest": latest,
        "bioface_open": latest is not None and latest.status in OPEN_STATUSES,
    }
    return render(request, "activities/activity.html", context, status=status)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def activity_page(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    """The consent screen while the activity waits for the receptor; its status and sharing afterwards."""
    # Every party may look; only the receptor answers.
    mine = _get(request, activity_id, receptor_only=request.method == "POST")
    if request.method == "GET":
        return _render(request, mine)
    activity = mine.activity
    if not mine.is_pending:
        return _render(request, mine, conflict=_status_sentence(mine), status=409)
    form = ConsentForm(request.POST, activity=activity, values={d.name: d for d in person_details(person=request.user)})
    if not form.is_valid():
        return _render(request, mine, form, status=400)
    try:
        activity = activity_accept(
            activity=activity,
            accepted_details=form.cleaned_data["accepted_details"],
            sharing_period=form.cleaned_data.get("sharing_period"),
            actor=Actor.user(request.user),
        )
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return _render(request, mine, form, status=400)
    except StateConflict as exc:
        return _render(request, _get(request, activity_id), conflict=str(exc), status=409)
    messages.success(request, _accepted_message(activity, mine))
    return redirect("people:me")


def _accepted_message(activity: Any, mine: PersonActivity) -> str:
    who = mine.counterpart_name
    if activity.type == ActivityType.AUTHORIZATION:
        return _("You gave %(who)s your authorization.") % {"who": who}
    if not activity.accepted_details:
        return _("You accepted %(who)s's request without sharing any details.") % {"who": who}
    shared = ", ".join(detail_label(d) for d in activity.accepted_details)
    until = formats.date_format(activity.sharing_until, "j M Y, H:i") + " UTC"
    return _("You share %(details)s with %(who)s until %(until)s. Your consent receipt is on this page.") % {
        "details": shared,
        "who": who,
        "until": until,
    }


def _status_sentence(mine: PersonActivity) -> str:
    return _("This activity is no longer waiting for an answer: it is %(status)s.") % {
        "status": _(mine.status_label).lower()
    }


@login_required
@require_POST
def activity_decline_view(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    mine = _get(request, activity_id, receptor_only=True)
    try:
        activity_decline(activity=mine.activity, actor=Actor.user(request.user))
    except StateConflict as exc:
        return _render(request, _get(request, activity_id), conflict=str(exc), status=409)
    messages.success(request, _("You declined %(who)s's request. Nothing was shared.") % {"who": mine.counterpart_name})
    return redirect("people:me")


@login_required
@require_POST
def activity_revoke_view(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    """Either party ends the sharing early (→ EXPIRED, reason revoked); the shared values are deleted."""
    mine = _get(request, activity_id)
    try:
        activity_revoke(activity=mine.activity, actor=Actor.user(request.user))
    except StateConflict as exc:
        return _render(request, _get(request, activity_id), conflict=str(exc), status=409)
    messages.success(
        request,
        _("The sharing with %(who)s has ended. The shared values have been deleted.") % {"who": mine.counterpart_name},
    )
    return redirect("people:me")


@login_required
@require_POST
def activity_complete_view(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    mine = _get(request, activity_id)
    try:
        activity = activity_complete(activity=mine.activity, party=mine.party, actor=Actor.user(request.user))
    except StateConflict as exc:
        return _render(request, _get(request, activity_id), conflict=str(exc), status=409)
    if activity.status == ActivityStatus.COMPLETED:
        messages.success(request, _("Both sides have marked this as done: it is completed."))
    else:
        messages.success(
            request, _("Marked as done. It is completed once %(who)s does too.") % {"who": mine.counterpart_name}
        )
    return redirect("people:activities:activity", activity_id=activity.pk)


@login_required
@require_POST
def activity_bioface_view(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    """Start (or resume) the face check an authorization asks for, at the verification page."""
    mine = _get(request, activity_id, receptor_only=True)
    activity = mine.activity
    if not (mine.is_pending and (activity.authorization or {}).get("requires_bioface")):
        return _render(request, mine, conflict=_("This activity does not need a face check now."), status=409)
    provider = settings.ACTIVITIES_BIOFACE_PROVIDER
    process = activity_bioface_processes(activity=activity).filter(provider=provider, status__in=OPEN_STATUSES).first()
    if process is None:
        process = process_create(
            organization=activity.organization,
            provider=provider,
            process_type=None,
            identity=activity.receptor,
            activity=activity,
            redirect_url=request.build_absolute_uri(reverse("people:activities:activity", args=[activity.pk])),
            actor=Actor.user(request.user),
        )
    return redirect(process_url(process))


@never_cache
@login_required
def receipt_page(request: PersonRequest, receipt_id: UUID) -> HttpResponse:
    receipt = person_receipt_get(person=request.user, receipt_id=receipt_id)
    if receipt is None:
        raise Http404(_("No such receipt."))
    return render(
        request,
        "activities/receipt.html",
        {
            "receipt": receipt,
            "details": [detail_label(d) for d in receipt.details],
            "json": json.dumps(receipt.as_json(), indent=2, ensure_ascii=False),
        },
    )


@never_cache
@login_required
def receipt_json(request: PersonRequest, receipt_id: UUID) -> HttpResponse:
    receipt = person_receipt_get(person=request.user, receipt_id=receipt_id)
    if receipt is None:
        raise Http404(_("No such receipt."))
    response = HttpResponse(
        json.dumps(receipt.as_json(), indent=2, ensure_ascii=False), content_type="application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="consent-receipt-{receipt.pk}.json"'
    return response


# --- A share or swap the person starts --------------------------------------------------------

START_TYPES = {"share": ActivityType.SHARE, "swap": ActivityType.SWAP}


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def activity_start(request: PersonRequest, kind: str) -> HttpResponse:
    """The person shares their details (AT_002) or proposes a swap (AT_003) with someone they
    already deal with: choose, review what would leave, confirm. Nothing is created before the
    confirmation, and it goes through activity_create like the API, as the person's own act."""
    type = START_TYPES[kind]
    counterparts = person_share_counterparts(person=request.user)
    values = {d.name: d for d in person_details(person=request.user)}
    form = StartActivityForm(
        request.POST if request.method == "POST" else None, type=type, counterparts=counterparts, values=values
    )
    context: dict[str, Any] = {"form": form, "kind": kind, "counterparts": counterparts, "values": values}
    if request.method == "GET" or "edit" in request.POST:
        if request.method == "POST":
            form.errors.clear()  # back from the review: the choices again, without complaints
        return render(request, "activities/start.html", context)
    if not form.is_valid():
        return render(request, "activities/start.html", context, status=400)
    if "confirm" not in request.POST:
        return render(request, "activities/start_confirm.html", {**context, **_review(form)})
    try:
        activity = activity_create(**form.service_arguments(), actor=Actor.user(request.user), person=request.user)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return render(request, "activities/start.html", context, status=400)
    except (StateConflict, PartyForbidden):
        # An identity was deactivated between the review and the confirmation.
        form.add_error("counterpart", _("This is no longer possible with %(who)s. Choose again.") % {"who": _who(form)})
        return render(request, "activities/start.html", context, status=409)
    mine = _get(request, activity.pk)
    if type == ActivityType.SHARE:
        messages.success(request, _accepted_message(activity, mine))
    else:
        messages.success(request, _("Your swap proposal was sent to %(who)s.") % {"who": mine.counterpart_name})
    return redirect("people:activities:activity", activity_id=activity.pk)


def _who(form: StartActivityForm) -> str:
    return form.chosen_counterpart().name


def _review(form: StartActivityForm) -> dict[str, Any]:
    """What the confirmation page shows: to whom, which values leave, for how long."""
    data = form.cleaned_data
    counterpart = form.chosen_counterpart()
    period_key = form.data.get("sharing_period", "")
    return {
        "counterpart": counterpart,
        "offered": [(detail_label(name), form.values[name].value) for name in data["offered_details"]],
        "requested": [detail_label(name) for name in data.get("requested_details", [])],
        "period_label": SHARING_PERIODS[period_key][0] if period_key in SHARING_PERIODS else "",
        "until": timezone.now() + data["sharing_period"] if "sharing_period" in data else None,
        "purpose": data.get("purpose", "").strip(),
    }
