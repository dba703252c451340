"""The person's side of consent activities, under /me/: answer, follow, revoke, and keep receipts."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode
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
    SharingGroup,
    activity_bioface_accepted,
    activity_bioface_processes,
    activity_details,
    person_activity_get,
    person_receipt_get,
    person_receipts,
    person_share_counterparts,
    person_sharing_group,
)
from apps.activities.services import (
    AUTHORIZED_PREFIX,
    FaceCheckRequired,
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
from apps.people.vocabulary import detail_display_value
from apps.verifications.links import process_url
from apps.verifications.models import OPEN_STATUSES, ProcessStatus
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
    return {
        key: {detail_label(name): detail_display_value(name, value) for name, value in details[key].items()}
        for key in ("given", "received")
    }


def _labels(names: str) -> str:
    return ", ".join(detail_label(name) for name in names.split(", ") if name)


def _person_sentence(error: ValidationError) -> str:
    """A service's validation error as the page says it, in the page's language (the services
    speak the API's English; their codes say which sentence this is)."""
    details = _labels(str((error.params or {}).get("details", "")))
    sentences = {
        "missing_value": _("You have not added these details yet: %(details)s.") % {"details": details},
        "not_requested": _("These details were not asked for: %(details)s.") % {"details": details},
        "required_left_out": _("Required details cannot be left out: %(details)s.") % {"details": details},
        "period_required": _("Choose how long the details are shared."),
        "period_refused": _("An authorization shares no details, so it has no sharing period."),
    }
    return sentences.get(error.code or "", _("This could not be saved. Check your choices and try again."))


def _add_service_errors(form: Any, exc: ValidationError) -> None:
    errors = exc.error_dict if hasattr(exc, "error_dict") else {None: exc.error_list}
    for field, field_errors in errors.items():
        form.add_error(field if field in form.fields else None, [_person_sentence(e) for e in field_errors])


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
    details_url = reverse("people:details") + "?" + urlencode({"next": request.path})
    passed = bioface and activity_bioface_accepted(activity=activity)
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
        "bioface_passed": passed,
        "bioface_latest": latest,
        "bioface_state": _face_check_state(passed, latest),
        "details_url": details_url,
    }
    return render(request, "activities/activity.html", context, status=status)


def _face_check_state(passed: bool, latest: Any) -> str:
    """passed | open (started, not finished) | not_counted (accepted, but not a face check this
    authorization takes) | failed (rejected, inconclusive, failed, canceled) | none (not started)."""
    if passed:
        return "passed"
    if latest is None:
        return "none"
    if latest.status in OPEN_STATUSES:
        return "open"
    return "not_counted" if latest.status == ProcessStatus.ACCEPTED else "failed"


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
        _add_service_errors(form, exc)
        return _render(request, mine, form, status=400)
    except FaceCheckRequired:
        return _render(
            request,
            mine,
            form,
            conflict=_("Take the face check first: you can approve once it is accepted."),
            status=409,
        )
    except StateConflict:
        return _conflict(request, activity_id)
    messages.success(request, _accepted_message(activity, mine))
    return redirect("people:me")


def _accepted_message(activity: Any, mine: PersonActivity) -> str:
    who = mine.counterpart_name
    if activity.type == ActivityType.AUTHORIZATION:
        return _("You gave %(who)s your authorization.") % {"who": who}
    if not activity.accepted_details:
        return _("You accepted %(who)s's request without sharing any details.") % {"who": who}
    shared = ", ".join(detail_label(d) for d in activity.accepted_details)
    until = formats.date_format(timezone.localtime(activity.sharing_until), "DATETIME_FORMAT")
    return _("You share %(details)s with %(who)s until %(until)s. Your consent receipt is on this page.") % {
        "details": shared,
        "who": who,
        "until": until,
    }


def _status_sentence(mine: PersonActivity) -> str:
    return _("This activity is no longer waiting for an answer: it is %(status)s.") % {
        "status": mine.status_label.lower()
    }


def _conflict(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    """The activity changed meanwhile: the page as it is now, saying what it became."""
    now = _get(request, activity_id)
    sentence = (
        _("This sharing has already ended: it is %(status)s.") % {"status": now.status_label.lower()}
        if not now.is_pending
        else _("This could not be done now. The page shows the activity as it is.")
    )
    return _render(request, now, conflict=sentence, status=409)


def _confirm_page(request: PersonRequest, mine: PersonActivity, action: str, **context: Any) -> HttpResponse:
    """The confirmation step of a decisive action, as a page: it works without JavaScript."""
    return render(
        request, "activities/confirm.html", {"mine": mine, "activity": mine.activity, "action": action, **context}
    )


def _confirmed(request: PersonRequest) -> bool:
    return request.method == "POST" and request.POST.get("confirm") == "1"


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def activity_decline_view(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    """Decline after a confirmation step (a POST without confirm=1 asks first)."""
    mine = _get(request, activity_id, receptor_only=True)
    if not mine.is_pending:
        return _render(request, mine, conflict=_status_sentence(mine), status=409 if request.method == "POST" else 200)
    if not _confirmed(request):
        return _confirm_page(request, mine, "decline")
    try:
        activity_decline(activity=mine.activity, actor=Actor.user(request.user))
    except StateConflict:
        return _conflict(request, activity_id)
    messages.success(request, _("You declined %(who)s's request. Nothing was shared.") % {"who": mine.counterpart_name})
    return redirect("people:me")


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def activity_revoke_view(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    """Either party ends the sharing early (→ EXPIRED, reason revoked), after a confirmation step;
    the shared values are deleted. `all=1` ends every identical sharing with the same person too
    (/me/ shows them as one row)."""
    mine = _get(request, activity_id)
    everything = (request.POST if request.method == "POST" else request.GET).get("all") == "1"
    group = person_sharing_group(person=request.user, mine=mine) if everything else SharingGroup(items=(mine,))
    if not mine.is_sharing:
        sentence = _("Nothing is being shared, so there is nothing to end: it is %(status)s.") % {
            "status": mine.status_label.lower()
        }
        return _render(request, mine, conflict=sentence, status=409 if request.method == "POST" else 200)
    if not _confirmed(request):
        return _confirm_page(request, mine, "revoke", group=group, everything=everything)
    try:
        for item in group.items:
            activity_revoke(activity=item.activity, actor=Actor.user(request.user))
    except StateConflict:
        return _conflict(request, activity_id)
    if mine.activity.type == ActivityType.AUTHORIZATION:
        messages.success(request, _("Your authorization for %(who)s is revoked.") % {"who": mine.counterpart_name})
    else:
        messages.success(
            request,
            _("The sharing with %(who)s has ended. The shared values have been deleted.")
            % {"who": mine.counterpart_name},
        )
    return redirect("people:me")


@login_required
@require_POST
def activity_complete_view(request: PersonRequest, activity_id: UUID) -> HttpResponse:
    mine = _get(request, activity_id)
    try:
        activity = activity_complete(activity=mine.activity, party=mine.party, actor=Actor.user(request.user))
    except StateConflict:
        return _conflict(request, activity_id)
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
    authorized = receipt.activity.type == ActivityType.AUTHORIZATION
    return render(
        request,
        "activities/receipt.html",
        {
            "receipt": receipt,
            # An authorization's receipt holds what was authorized as its purpose, after a prefix.
            "authorized": receipt.purpose.removeprefix(AUTHORIZED_PREFIX) if authorized else "",
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
        _add_service_errors(form, exc)
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
        "offered": [
            (detail_label(name), detail_display_value(name, form.values[name].value))
            for name in data["offered_details"]
        ],
        "requested": [detail_label(name) for name in data.get("requested_details", [])],
        "period_label": SHARING_PERIODS[period_key][0] if period_key in SHARING_PERIODS else "",
        "until": timezone.now() + data["sharing_period"] if "sharing_period" in data else None,
        "purpose": data.get("purpose", "").strip(),
    }
