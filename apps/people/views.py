"""The person's own details, edited on /me/details/ (mounted by apps.portal.urls)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.people.forms import PersonalDetailsForm
from apps.people.requests import PersonRequest
from apps.people.selectors import person_details
from apps.people.services import person_details_update, person_time_zone_set


def _next_url(request: HttpRequest) -> str:
    """Where to return after saving (?next=, e.g. the request that needs a detail): only a page of
    this site, never another host."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def details_edit(request: PersonRequest) -> HttpResponse:
    """Edit self-declared details; verified ones are shown read-only with their provenance."""
    details = person_details(person=request.user)
    next_url = _next_url(request)
    if request.method == "GET":
        form = PersonalDetailsForm(details=details)
        form.add_time_zone(request.user.time_zone)
        return render(request, "people/details_edit.html", {"form": form, "details": details, "next": next_url})
    form = PersonalDetailsForm(request.POST, details=details)
    form.add_time_zone(request.user.time_zone)
    if form.is_valid():
        try:
            person_details_update(person=request.user, details=form.changes())
            person_time_zone_set(person=request.user, time_zone=form.cleaned_data.get("time_zone") or "")
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if next_url:
                messages.success(request, _("Your details have been saved. You can answer the request now."))
                return redirect(next_url)
            messages.success(request, _("Your details have been saved."))
            return redirect("people:me")
    context = {"form": form, "details": details, "next": next_url}
    return render(request, "people/details_edit.html", context, status=400)
