"""The admin site of the back office: every page needs a password and a verified second factor.

`BackOfficeSite` replaces Django's default site (apps.backoffice.apps.BackOfficeAdminConfig),
so `admin.site`, `admin.register` and every `admin_view` (changelists, object pages, CSV
export, document images, the dashboard, autocomplete) check it. A staff member who signed in
with a password but has not given a code is sent to /admin/second-factor/: the enrolment page
on their first sign-in, the code page afterwards.
"""

from __future__ import annotations

import math
from functools import update_wrapper
from typing import Any, TypeGuard
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django_otp import login as otp_login

from apps.backoffice.second_factor import (
    second_factor_base32,
    second_factor_device,
    second_factor_enrolment_confirm,
    second_factor_enrolment_start,
    second_factor_qr_svg,
    second_factor_verify,
)
from apps.backoffice.sessions import staff_session_start
from apps.people.forms import EmailAuthenticationForm
from apps.people.models import User


class StaffAuthenticationForm(AdminAuthenticationForm, EmailAuthenticationForm):
    """The admin's sign-in: staff accounts only, with the people's form's lockout message."""

    error_messages = {
        **AdminAuthenticationForm.error_messages,
        "locked_out": _(
            "Too many failed sign-in attempts for this account from this network (or for this "
            "account from everywhere). Wait %(minutes)s and try again."
        ),
    }


class SecondFactorForm(forms.Form):
    otp_token = forms.CharField(
        label=_("Code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text=_("The 6-digit code your authenticator app shows, or one of your backup codes."),
    )


# The unconfirmed authenticator this session's enrolment page shows (apps.backoffice.second_factor).
ENROLMENT_DEVICE = "backoffice_enrolment_device"


def _is_staff(user: Any) -> TypeGuard[User]:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_staff)


def _is_verified(user: Any) -> bool:
    # A user just signed in by password (auth.login replaced request.user) has no is_verified yet.
    is_verified = getattr(user, "is_verified", None)
    return bool(is_verified and is_verified())


def awaiting_second_factor(request: HttpRequest) -> bool:
    return _is_staff(request.user) and not _is_verified(request.user)


def _carries_nul(request: HttpRequest) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for query in (request.GET, request.POST)
        for key, values in query.lists()
    )


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


class BackOfficeSite(admin.AdminSite):
    site_header = _("Identity Portal back office")
    site_title = _("Identity Portal")
    index_title = _("Back office")
    login_form = StaffAuthenticationForm

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and _is_verified(request.user)

    def get_urls(self) -> list[Any]:
        return [path("second-factor/", self.second_factor, name="second_factor"), *super().get_urls()]

    def _next_url(self, request: HttpRequest) -> str:
        candidate = request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
        if candidate and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return candidate
        return reverse("admin:index", current_app=self.name)

    def _to_second_factor(self, request: HttpRequest, next_url: str) -> HttpResponseRedirect:
        url = reverse("admin:second_factor", current_app=self.name)
        return HttpResponseRedirect(f"{url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if _carries_nul(request):
                # PostgreSQL refuses NUL in text: a filter value with one would be a server error.
                return HttpResponseBadRequest("A NUL character is not allowed in a request.")
            if awaiting_second_factor(request):
                if request.path == reverse("admin:logout", current_app=self.name):
                    return self.logout(request)
                return self._to_second_factor(request, request.get_full_path())
            return inner(request, *args, **kwargs)

        return update_wrapper(guarded, inner)

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if request.method == "GET" and awaiting_second_factor(request):
            return self._to_second_factor(request, self._next_url(request))
        response = super().login(request, extra_context)
        if request.method == "POST" and awaiting_second_factor(request):
            # The password was right; the session is not an admin session until the code is.
            return self._to_second_factor(request, self._next_url(request))
        return response

    @method_decorator(never_cache)
    @method_decorator(csrf_protect)
    @login_not_required
    def second_factor(self, request: HttpRequest) -> HttpResponse:
        """Enrol an authenticator (first sign-in) or give a code from it (every later one)."""
        user = request.user
        next_url = self._next_url(request)
        if not _is_staff(user):
            login_url = reverse("admin:login", current_app=self.name)
            return HttpResponseRedirect(f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")
        if _is_verified(user):
            return HttpResponseRedirect(next_url)
        form = SecondFactorForm(request.POST if request.method == "POST" else None)
        device = second_factor_device(user=user)
        context: dict[str, Any] = {
            **self.each_context(request),
            "form": form,
            "next": next_url,
            "account": user.email,
        }
        if device is None:
            pending = second_factor_enrolment_start(user=user, device_id=request.session.get(ENROLMENT_DEVICE))
            request.session[ENROLMENT_DEVICE] = pending.pk
            if form.is_valid():
                wait = self._throttle_wait(pending)
                confirmed = (
                    None
                    if wait
                    else second_factor_enrolment_confirm(
                        user=user, device_id=pending.pk, token=form.cleaned_data["otp_token"]
                    )
                )
                if confirmed is not None:
                    device, backup_codes = confirmed
                    request.session.pop(ENROLMENT_DEVICE, None)
                    self._verified(request, device)
                    context.update(title=gettext("Second factor ready"), backup_codes=backup_codes, next=next_url)
                    return TemplateResponse(request, "admin/backoffice/second_factor_codes.html", context)
                form.add_error("otp_token", self._code_error(wait))
            context.update(
                title=gettext("Set up your second factor"),
                enrolment=True,
                qr_svg=second_factor_qr_svg(device=pending),
                secret=_grouped(second_factor_base32(pending)),
            )
        else:
            if form.is_valid():
                wait = self._throttle_wait(device)
                verified = None if wait else second_factor_verify(user=user, token=form.cleaned_data["otp_token"])
                if verified is not None:
                    self._verified(request, verified)
                    return HttpResponseRedirect(next_url)
                form.add_error("otp_token", self._code_error(wait))
            context.update(title=gettext("Second factor"), enrolment=False)
        response = TemplateResponse(request, "admin/backoffice/second_factor.html", context)
        response["Cache-Control"] = "no-store"
        return response

    @staticmethod
    def _code_error(wait: int) -> str:
        if wait:
            # django-otp holds a device off for a time that doubles with each wrong code.
            return ngettext(
                "Too many wrong codes: wait %(n)d second and try again.",
                "Too many wrong codes: wait %(n)d seconds and try again.",
                wait,
            ) % {"n": wait}
        return gettext("That code is not right. Check the app's clock and try the next code.")

    @staticmethod
    def _throttle_wait(device: Any) -> int:
        device.refresh_from_db()
        allowed, details = device.verify_is_allowed()
        if allowed or not details or "locked_until" not in details:
            return 0
        return max(1, math.ceil((details["locked_until"] - timezone.now()).total_seconds()))

    def _verified(self, request: HttpRequest, device: Any) -> None:
        # A new session key for the raised privilege, as Django does at sign-in; the staff
        # session's clock keeps running from the password sign-in.
        request.session.cycle_key()
        otp_login(request, device)

    def autocomplete_view(self, request: HttpRequest) -> HttpResponse:
        # No form open to organization staff has an autocomplete (memberships and accounts are
        # managed by superusers), and its answers carry primary keys: superusers only.
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().autocomplete_view(request)


def staff_signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """user_logged_in receiver: a staff session gets its idle and absolute limits."""
    if request is not None and hasattr(request, "session"):
        staff_session_start(request=request, user=user)
