from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from apps.people.selectors import person_details


@login_required
def me(request: HttpRequest) -> HttpResponse:
    """The person's own page: their details with provenance and who knows them."""
    identities = request.user.identities.select_related("organization").order_by("-created_at")
    return render(
        request,
        "people/me.html",
        {"details": person_details(person=request.user), "identities": identities},
    )
