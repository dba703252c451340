"""The person's own details, edited on /me/details/ (mounted by apps.portal.urls), and the account
pages at Django's standard paths under /accounts/ (sign out, password reset and change).

A new password (reset or change) ends the person's other sessions: Django keeps a hash of the
password in every session and refuses a session whose hash no longer matches; a change keeps
only the session that made it (update_session_auth_hash). apps.oauth revokes every app's
tokens on any password change (its receivers), so no view here does that again."""

from __future__ import annotations

import math
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordResetForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views import i18n as i18n_views
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.core.client_address import client_address
from apps.core.counters import LimitExceeded
from apps.core.crypto import lookup_hash, normalize_email
from apps.core.message_limits import password_reset_take
from apps.people.forms import PersonalDetailsForm, PortalPasswordResetForm
from apps.people.requests import PersonRequest
from apps.people.selectors import person_details
from apps.people.services import person_details_update, person_language_set, person_time_zone_set


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


class SignOutView(auth_views.LogoutView):
    """POST signs out (then the signed-out page, LOGOUT_REDIRECT_URL); GET answers a page with
    the sign-out button instead of an empty 405 (signing out stays a POST, against CSRF)."""

    http_method_names = ["get", "post", "options"]

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect("accounts:signed-out")
        return render(request, "accounts/sign_out.html", {"next": self.get_redirect_url()})


def signed_out(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/signed_out.html")


class PasswordResetView(auth_views.PasswordResetView):
    """/accounts/password_reset/: the same answer whether or not the address has an account;
    limited per address and per client (apps.core.message_limits), with or without an account."""

    form_class = PortalPasswordResetForm
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        address = client_address(self.request)
        try:
            password_reset_take(
                destination_key=lookup_hash(normalize_email(form.cleaned_data["email"])),
                client_key=lookup_hash(address) if address else "",
            )
        except LimitExceeded as exc:
            minutes = max(1, math.ceil(exc.retry_after / 60))
            form.add_error(
                None,
                ngettext(
                    "Too many reset emails were asked for this address or from this network. "
                    "Try again in %(minutes)d minute.",
                    "Too many reset emails were asked for this address or from this network. "
                    "Try again in %(minutes)d minutes.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            response = self.form_invalid(form)
            response.status_code = 429
            response["Retry-After"] = str(exc.retry_after)
            return response
        # The link names the portal's public address, never the Host header a request claimed.
        self.extra_email_context = {
            "base_url": settings.PUBLIC_BASE_URL,
            "valid_hours": max(1, settings.PASSWORD_RESET_TIMEOUT // 3600),
        }
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """The emailed link: new_password1 / new_password2. The person signs in afterwards (staff
    with their second factor, as always)."""

    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = False


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "accounts/password_change_done.html"


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switcher (/i18n/setlang/); a signed-in person's choice is also kept for
    the emails the portal sends them."""
    response = i18n_views.set_language(request)
    language = request.POST.get("language", "") if request.method == "POST" else ""
    if request.user.is_authenticated and not request.user.is_staff and response.status_code in (200, 302):
        person_language_set(person=request.user, language=language)
    return response
