"""The invitation page: the person creates or links an account and the identity becomes ACTIVE."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.audit.errors import StateConflict
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identity_activate
from apps.identities.tokens import invitation_token_check
from apps.people.forms import NewAccountPasswordForm
from apps.people.selectors import person_by_email
from apps.people.services import person_create


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "identities/invitation_invalid.html", status=410)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, identity_id: UUID, token: str) -> HttpResponse:
    identity = ExternalPersonalIdentity.objects.select_related("organization").filter(pk=identity_id).first()
    if identity is None or not invitation_token_check(identity, token):
        return _invalid(request)

    existing_account = person_by_email(identity.email_address)
    form = NewAccountPasswordForm(identity.email_address)

    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "link" and request.user.is_authenticated:
                identity_activate(identity=identity, person=request.user)
                messages.success(
                    request, _("Your identity with %(org)s is now active.") % {"org": identity.organization.name}
                )
                return redirect("people:me")
            if action == "create" and existing_account is None:
                form = NewAccountPasswordForm(identity.email_address, data=request.POST)
                if form.is_valid():
                    with transaction.atomic():
                        person = person_create(
                            email=identity.email_address,
                            password=form.cleaned_data["new_password1"],
                            details={"first_name": identity.first_name, "last_name": identity.last_name},
                            check_password=False,  # the form has validated it
                        )
                        identity_activate(identity=identity, person=person)
                    login(request, person, backend="apps.people.backends.EmailBackend")
                    messages.success(
                        request,
                        _("Welcome! Your identity with %(org)s is now active.") % {"org": identity.organization.name},
                    )
                    return redirect("people:me")
        except StateConflict:
            return _invalid(request)
        except ValidationError as exc:
            form.add_error(None, exc)

    return render(
        request,
        "identities/invitation.html",
        {
            "identity": identity,
            "organization": identity.organization,
            "form": form,
            "existing_account": existing_account,
        },
        status=400 if request.method == "POST" else 200,
    )
