"""The actor's page at an identification's `url`, and one POST view per step.

The page (GET) only reads: it shows where the identification stands and the form of the step
it is at. Each step is its own POST (send a code, check the code, the second factor, the
document images): it checks the signed link, parses its form, calls one service and redirects
back to the page (POST/redirect/GET), or re-renders the page with the errors next to their
fields. Every write, the first one included (CREATED → IN_PROGRESS when the actor first asks
for a code), happens in a service as an audited transition.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING
from uuid import UUID

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from apps.audit.errors import StateConflict
from apps.identifications.forms import CodeForm, DocumentImagesForm, SecondFactorForm
from apps.identifications.links import identification_token_valid
from apps.identifications.models import FINAL_STATUSES, Channel, IdentificationStatus, OtpIdentification, TwoFactorType
from apps.identifications.selectors import identification_status_shown, masked_destination
from apps.identifications.services import (
    MAX_IMAGE_BYTES,
    RateLimited,
    identification_check_code,
    identification_check_second_factor,
    identification_send_code,
    identification_submit_images,
)

if TYPE_CHECKING:
    from django_stubs_ext import StrPromise

SECOND_FACTOR_LABELS: dict[str, StrPromise] = {
    TwoFactorType.DOCUMENT_NUMBER: gettext_lazy("Your document number"),
    TwoFactorType.EMAIL: gettext_lazy("Your email address"),
}

# A step's POST view: (request, identification, the link's token) → response.
StepHandler = Callable[[HttpRequest, OtpIdentification, str], HttpResponse]


def _step(identification: OtpIdentification) -> str:
    """The step the page shows; an overdue open identification is shown EXPIRED (final)."""
    if identification_status_shown(identification=identification) in FINAL_STATUSES:
        return "final"
    if identification.awaiting_review:
        return "review"
    if identification.code_verified_at:
        if identification.two_factor_type == TwoFactorType.PERSONAL_DOCUMENT_IMAGE:
            return "images"
        return "second_factor"
    return "code"


def _factor_form(identification: OtpIdentification, data: object = None) -> SecondFactorForm:
    label = SECOND_FACTOR_LABELS.get(identification.two_factor_type, _("Second factor"))
    return SecondFactorForm(data, label=label)


def _read_upload(upload: object) -> bytes:
    # Read one byte past the limit: enough to refuse a too-large file without loading it all.
    return upload.read(MAX_IMAGE_BYTES + 1)  # type: ignore[attr-defined]


def _identification(identification_id: UUID, token: str) -> OtpIdentification | None:
    """The identification the signed link names; None for an unknown id or a bad signature."""
    identification = OtpIdentification.objects.select_related("organization").filter(pk=identification_id).first()
    if identification is None or not identification_token_valid(identification_id, token):
        return None
    return identification


def _page(identification: OtpIdentification, token: str) -> str:
    return reverse("identifications:page", args=[identification.pk, token])


def _invalid(request: HttpRequest) -> HttpResponse:
    return render(request, "identifications/invalid.html", status=404)


def _render(
    request: HttpRequest,
    identification: OtpIdentification,
    token: str,
    *,
    status: int = 200,
    notice: str = "",
    error: str = "",
    form: forms.Form | None = None,
) -> HttpResponse:
    """The page at the identification's current step; `form` is the step's form with its errors."""
    shown = identification_status_shown(identification=identification)
    step = _step(identification)
    return render(
        request,
        "identifications/page.html",
        {
            "identification": identification,
            "organization": identification.organization,
            "token": token,
            "status": shown,
            "status_label": IdentificationStatus(shown).label,
            "step": step,
            "code_form": form if isinstance(form, CodeForm) else CodeForm(),
            "factor_form": form if isinstance(form, SecondFactorForm) else _factor_form(identification),
            "images_form": form if isinstance(form, DocumentImagesForm) else DocumentImagesForm(),
            "code_sent": bool(identification.code_hash),
            "notice": notice,
            "error": error,
            "identified": shown == IdentificationStatus.IDENTIFIED,
            "channel_label": _("phone") if identification.channel == Channel.SMS else _("email"),
            "destination": masked_destination(identification),
        },
        status=status,
    )


def _conflict(request: HttpRequest, identification: OtpIdentification, token: str) -> HttpResponse:
    """409: the POST does not fit where the identification stands; the page shows where that is."""
    identification.refresh_from_db()
    if _step(identification) == "final":
        error = _("This identification has moved on. Here is where it stands now.")
    else:
        error = _("This step is already done. Here is where you are now.")
    return _render(request, identification, token, status=409, error=error)


def _actor_step(step: str) -> Callable[[StepHandler], Callable[..., HttpResponse]]:
    """One step's POST view around `handler`: the signed link (404 page), the step the
    identification is at (409 page showing it), and the refusals every step shares: the code
    send limits (429 with Retry-After and the sentence) and a state that changed under the
    request (409). The page's GET decides nothing of this: it never writes."""

    def decorate(handler: StepHandler) -> Callable[..., HttpResponse]:
        @never_cache
        @require_POST
        @wraps(handler)
        def view(request: HttpRequest, identification_id: UUID, token: str) -> HttpResponse:
            identification = _identification(identification_id, token)
            if identification is None:
                return _invalid(request)
            if _step(identification) != step:
                return _conflict(request, identification, token)
            try:
                return handler(request, identification, token)
            except RateLimited as exc:
                response = _render(request, identification, token, status=429, error=str(exc))
                response["Retry-After"] = str(exc.retry_after)
                return response
            except StateConflict:
                return _conflict(request, identification, token)

        return view

    return decorate


@never_cache
@require_safe
def identification_page(request: HttpRequest, identification_id: UUID, token: str) -> HttpResponse:
    """Where the identification stands and the current step's form. Reads only."""
    identification = _identification(identification_id, token)
    if identification is None:
        return _invalid(request)
    notice = ""
    if request.GET.get("sent") and _step(identification) == "code":
        if identification.channel == Channel.SMS:
            notice = _("We sent a code to your phone. It is valid for 10 minutes.")
        else:
            notice = _("We sent a code to your email. It is valid for 10 minutes.")
    return _render(request, identification, token, notice=notice)


@_actor_step("code")
def identification_send_code_view(request: HttpRequest, identification: OtpIdentification, token: str) -> HttpResponse:
    """A new code over the channel; the first one moves CREATED → IN_PROGRESS."""
    identification_send_code(identification=identification)
    return redirect(_page(identification, token) + "?sent=1")


@_actor_step("code")
def identification_check_code_view(request: HttpRequest, identification: OtpIdentification, token: str) -> HttpResponse:
    form = CodeForm(request.POST)
    if form.is_valid():
        result = identification_check_code(identification=identification, code=form.cleaned_data["code"])
        if result.ok:
            return redirect(_page(identification, token))
        identification = result.identification
        form.add_error("code", result.message)
    return _render(request, identification, token, status=400, form=form)


@_actor_step("second_factor")
def identification_second_factor_view(
    request: HttpRequest, identification: OtpIdentification, token: str
) -> HttpResponse:
    form = _factor_form(identification, request.POST)
    if form.is_valid():
        result = identification_check_second_factor(
            identification=identification, value=form.cleaned_data["second_factor"]
        )
        if result.ok:
            return redirect(_page(identification, token))
        identification = result.identification
        form.add_error("second_factor", result.message)
    return _render(request, identification, token, status=400, form=form)


@_actor_step("images")
def identification_images_view(request: HttpRequest, identification: OtpIdentification, token: str) -> HttpResponse:
    form = DocumentImagesForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            identification_submit_images(
                identification=identification,
                front=_read_upload(form.cleaned_data["front_image"]),
                back=_read_upload(form.cleaned_data["back_image"]),
            )
            return redirect(_page(identification, token))
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                for message in messages:
                    form.add_error(field, message)
    return _render(request, identification, token, status=400, form=form)
