"""The person's own details, edited on /me/details/ (mounted by apps.portal.urls)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.people.forms import PersonalDetailsForm
from apps.people.requests import PersonRequest
from apps.people.selectors import person_details
from apps.people.services import person_details_update


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def details_edit(request: PersonRequest) -> HttpResponse:
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
