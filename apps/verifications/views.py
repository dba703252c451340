"""The hosted page at a process's `url`."""

from __future__ import annotations

from typing import Any, cast
from urllib.parse import urlencode, urlsplit, urlunsplit
from uuid import UUID

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.audit import reasons
from apps.audit.errors import StateConflict
from apps.audit.services import Actor
from apps.verifications.connectors.base import ReturnRejected
from apps.verifications.handoff import connect_return
from apps.verifications.links import process_token_valid, process_url
from apps.verifications.models import ProviderRun, VerificationProcess
from apps.verifications.providers import PROVIDER_LABELS
from apps.verifications.sandbox import sandbox_choices
from apps.verifications.selectors import person_process_get
from apps.verifications.services import process_fail_if_overdue, process_redact, process_sandbox_choose


class SandboxOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("Provider and outcome"), widget=forms.RadioSelect)

    def __init__(self, *args: Any, face_only: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = sandbox_choices(face_only=face_only)
        cast(forms.ChoiceField, self.fields["outcome"]).choices = [(f"{p}/{n}", label) for p, n, label in choices]


def _redirect_target(process: VerificationProcess) -> str:
    parts = urlsplit(process.redirect_url)
    query = "&".join(filter(None, [parts.query, urlencode({"processId": str(process.pk), "status": process.status})]))
    return urlunsplit(parts._replace(query=query))


def _provider_url(process: VerificationProcess) -> str:
    """Where the person verifies at the organization's connected provider, if it started there."""
    run = ProviderRun.objects.filter(process_id=process.pk).only("url").first()
    return run.url if run is not None else ""


@never_cache
@require_http_methods(["GET", "POST"])
def process_page(request: HttpRequest, process_id: UUID, token: str) -> HttpResponse:
    process = VerificationProcess.objects.select_related("organization").filter(pk=process_id).first()
    if process is None or not process_token_valid(process_id, token):
        return render(request, "verifications/invalid.html", status=404)
    if process.is_sandbox and not settings.SANDBOX_ENABLED:
        # The sandbox is off here: its page does not exist (API.md "Pages").
        return render(request, "verifications/invalid.html", status=404)
    process = process_fail_if_overdue(process=process)
    form = (
        SandboxOutcomeForm(request.POST or None, face_only=process.activity_id is not None)
        if process.is_sandbox
        else None
    )

    if request.method == "POST" and form is not None and not process.is_final and form.is_valid():
        provider, sample = form.cleaned_data["outcome"].split("/", 1)
        try:
            process = process_sandbox_choose(process=process, provider=provider, sample=sample)
        except StateConflict:
            process.refresh_from_db()
        if process.redirect_url:
            return redirect(_redirect_target(process))
        return redirect(request.path)

    return render(
        request,
        "verifications/process.html",
        {
            "process": process,
            "organization": process.organization,
            "provider_name": PROVIDER_LABELS.get(process.provider.split(":", 1)[0], process.provider),
            "form": form,
            "continue_url": _redirect_target(process) if process.is_final and process.redirect_url else "",
            "provider_url": _provider_url(process),
        },
        status=400 if request.method == "POST" and form is not None and form.errors else 200,
    )


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def person_process_redact(request: HttpRequest, process_id: UUID) -> HttpResponse:
    """/me/: the person asks for the personal data of one of their own verification processes to be
    redacted (a confirmation page, then the act). Another person's process is a 404."""
    process = person_process_get(person=request.user, process_id=process_id)
    if process is None:
        raise Http404(_("No such verification."))
    context = {"process": process, "provider_name": PROVIDER_LABELS.get(process.adapter_name or process.provider)}
    if request.method == "GET" or process.redaction_requested:
        return render(request, "verifications/redact.html", context)
    process_redact(process=process, actor=Actor.user(request.user), reason=reasons.REDACTION_REQUESTED_BY_PERSON)
    messages.success(
        request,
        _("The personal data of this verification for %(org)s has been removed.") % {"org": process.organization.name},
    )
    return redirect(reverse("people:me") + "#verifications-heading")


@never_cache
@require_http_methods(["GET"])
def connect_callback(request: HttpRequest) -> HttpResponse:
    """The person is back from the organization's OpenID Connect provider: the code is exchanged
    and checked, the process finished, and the person sent on to the process's redirectUrl (or
    its page). A return the portal did not send (tampered or expired state) changes nothing."""
    try:
        process = connect_return(query=request.GET.dict())
    except ReturnRejected:
        return render(request, "verifications/invalid.html", status=400)
    if process.redirect_url:
        return redirect(_redirect_target(process))
    return redirect(process_url(process))
