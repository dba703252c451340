"""The actor's page at an identification's `url`: send a code, enter it, then the second factor."""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.audit.errors import StateConflict
from apps.identifications.forms import CodeForm, DocumentImagesForm, SecondFactorForm
from apps.identifications.links import identification_token_valid
from apps.identifications.models import Channel, IdentificationStatus, OtpIdentification, TwoFactorType
from apps.identifications.services import (
    MAX_IMAGE_BYTES,
    RateLimited,
    identification_check_code,
    identification_check_second_factor,
    identification_open,
    identification_send_code,
    identification_submit_images,
)

SECOND_FACTOR_LABELS = {
    TwoFactorType.DOCUMENT_NUMBER: gettext_lazy("Your document number"),
    TwoFactorType.EMAIL: gettext_lazy("Your email address"),
}


def _step(identification: OtpIdentification) -> str:
    if identification.is_final:
        return "final"
    if identification.awaiting_review:
        return "review"
    if identification.code_verified_at:
        if identification.two_factor_type == TwoFactorType.PERSONAL_DOCUMENT_IMAGE:
            return "images"
        return "second_factor"
    return "code"


def _read_upload(upload: object) -> bytes:
    # Read one byte past the limit: enough to refuse a too-large file without loading it all.
    return upload.read(MAX_IMAGE_BYTES + 1)  # type: ignore[attr-defined]


@never_cache
@require_http_methods(["GET", "POST"])
def identification_page(request: HttpRequest, identification_id: UUID, token: str) -> HttpResponse:
    identification = OtpIdentification.objects.select_related("organization").filter(pk=identification_id).first()
    if identification is None or not identification_token_valid(identification_id, token):
        return render(request, "identifications/invalid.html", status=404)
    identification = identification_open(identification=identification)
    step = _step(identification)
    code_form = CodeForm()
    factor_form = SecondFactorForm(label=SECOND_FACTOR_LABELS.get(identification.two_factor_type, _("Second factor")))
    images_form = DocumentImagesForm()
    notice, error, status, headers = "", "", 200, {}

    if request.method == "POST":
        try:
            if step == "code" and "send" in request.POST:
                identification_send_code(identification=identification)
                return redirect(request.path + "?sent=1")
            if step == "code" and "code" in request.POST:
                code_form = CodeForm(request.POST)
                if code_form.is_valid():
                    result = identification_check_code(
                        identification=identification, code=code_form.cleaned_data["code"]
                    )
                    if result.ok:
                        return redirect(request.path)
                    identification = result.identification
                    code_form.add_error("code", result.message)
                status = 400
            elif step == "second_factor" and "second_factor" in request.POST:
                factor_form = SecondFactorForm(
                    request.POST, label=SECOND_FACTOR_LABELS.get(identification.two_factor_type, _("Second factor"))
                )
                if factor_form.is_valid():
                    result = identification_check_second_factor(
                        identification=identification, value=factor_form.cleaned_data["second_factor"]
                    )
                    if result.ok:
                        return redirect(request.path)
                    identification = result.identification
                    factor_form.add_error("second_factor", result.message)
                status = 400
            elif step == "images":
                images_form = DocumentImagesForm(request.POST, request.FILES)
                if images_form.is_valid():
                    try:
                        identification_submit_images(
                            identification=identification,
                            front=_read_upload(images_form.cleaned_data["front_image"]),
                            back=_read_upload(images_form.cleaned_data["back_image"]),
                        )
                        return redirect(request.path)
                    except ValidationError as exc:
                        for field, messages in exc.message_dict.items():
                            for message in messages:
                                images_form.add_error(field, message)
                status = 400
            else:
                status = 409
                error = _("This step is already done. Here is where you are now.")
        except RateLimited as exc:
            status, error = 429, str(exc)
            headers["Retry-After"] = str(exc.retry_after)
        except StateConflict:
            identification.refresh_from_db()
            status, error = 409, _("This identification has moved on. Here is where it stands now.")
        identification.refresh_from_db()
        step = _step(identification)
    elif request.GET.get("sent") and step == "code":
        if identification.channel == Channel.SMS:
            notice = _("We sent a code to your phone. It is valid for 10 minutes.")
        else:
            notice = _("We sent a code to your email. It is valid for 10 minutes.")

    response = render(
        request,
        "identifications/page.html",
        {
            "identification": identification,
            "organization": identification.organization,
            "step": step,
            "code_form": code_form,
            "factor_form": factor_form,
            "images_form": images_form,
            "code_sent": bool(identification.code_hash),
            "notice": notice,
            "error": error,
            "identified": identification.status == IdentificationStatus.IDENTIFIED,
            "channel_label": _("phone") if identification.channel == Channel.SMS else _("email"),
        },
        status=status,
    )
    for name, value in headers.items():
        response[name] = value
    return response
