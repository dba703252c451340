"""The consent page at a session's `url` (the phone)."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.html import escape
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from apps.audit.errors import StateConflict
from apps.core.security_headers import embeddable
from apps.people.selectors import person_details
from apps.people.vocabulary import DETAILS_BY_NAME, detail_display_value
from apps.transfers.forms import NOTHING_CHOSEN, SessionConsentForm
from apps.transfers.links import session_url
from apps.transfers.models import SessionStatus, TransferSession
from apps.transfers.selectors import session_get
from apps.transfers.services import (
    session_answer,
    session_expire_if_overdue,
    session_retrieve,
    session_token_valid,
)


def _by_token(request: HttpRequest, session_id: UUID) -> TransferSession | HttpResponse:
    """The token in a page URL is a capability: without it, nothing about the session is shown."""
    session = session_get(session_id=session_id)
    if session is None:
        return render(request, "transfers/unknown.html", status=404)
    if not session_token_valid(session, request.GET.get("token")):
        return render(request, "transfers/unknown.html", status=401)
    return session_expire_if_overdue(session=session)


def _closed_svg() -> str:
    text = escape(gettext("This code no longer works"))
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 200 200" role="img" aria-label="{text}">'
        '<rect width="200" height="200" fill="#f3f4f6"/>'
        '<text x="100" y="105" text-anchor="middle" font-family="sans-serif" font-size="14" fill="#374151">'
        f"{text}</text></svg>"
    )


@never_cache
@require_http_methods(["GET"])
def qr_svg(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """The session's url as an SVG QR code."""
    import qrcode
    import qrcode.image.svg

    session = _by_token(request, session_id)
    if isinstance(session, HttpResponse):  # the refusal
        return session
    if not session.is_open:
        # An answered or expired session's QR must not be scannable any more.
        return HttpResponse(_closed_svg(), content_type="image/svg+xml", status=410)
    image = qrcode.make(session_url(session), image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    return HttpResponse(image.to_string(), content_type="image/svg+xml")


@never_cache
@embeddable  # integrators frame it: CSP frame-ancestors from SESSION_DISPLAY_FRAME_ANCESTORS
@require_http_methods(["GET"])
def display_page(request: HttpRequest, session_id: UUID) -> HttpResponse:
    """The embeddable desktop page: QR, who asks for what, countdown, live status, renewal."""
    session = _by_token(request, session_id)
    if isinstance(session, HttpResponse):  # the refusal
        return session
    return render(
        request,
        "transfers/display.html",
        {
            "session": session,
            "token": request.GET["token"],
            "organization": session.organization,
            "labels": [DETAILS_BY_NAME[name].display_label for name in session.scopes],
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
def consent_page(request: HttpRequest, session_id: UUID) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    session = session_get(session_id=session_id)
    if session is None:
        return render(request, "transfers/unknown.html", status=404)
    session = session_expire_if_overdue(session=session)
    person = request.user
    if session.person_id not in (None, person.pk):
        return render(request, "transfers/answered.html", {"session": session}, status=409)

    values = {d.name: d.value for d in person_details(person=person)}
    form = None
    if request.method == "POST" and session.status == SessionStatus.RETRIEVED:
        form = SessionConsentForm(request.POST, shareable=[name for name in session.scopes if values.get(name)])
        if form.is_valid():
            try:
                session_answer(
                    session=session,
                    person=person,
                    decision=form.cleaned_data["decision"],
                    accepted_scopes=form.cleaned_data["scopes"],
                )
            except StateConflict:
                pass  # answered meanwhile: the page it redirects to says so
            except ValidationError:
                # The form offers only details the person has; one was removed since it was checked.
                form.add_error("scopes", NOTHING_CHOSEN)
            if form.is_valid():
                return redirect(request.path)
        # Nothing changed: the session stays retrieved and the person answers again.

    if session.status == SessionStatus.INITIALIZED:
        try:
            session = session_retrieve(session=session, person=person)
        except StateConflict:
            session.refresh_from_db()
    if session.status == SessionStatus.EXPIRED:
        return render(request, "transfers/expired.html", {"session": session}, status=410)
    if session.status in (SessionStatus.CONFIRMED, SessionStatus.DECLINED):
        labels = [
            DETAILS_BY_NAME[name].display_label for name in session.accepted_scopes or [] if name in DETAILS_BY_NAME
        ]
        return render(request, "transfers/answered.html", {"session": session, "labels": labels})

    ticked = set(cast(QueryDict, form.data).getlist("scopes")) if form is not None else set(values)
    scopes = [
        {
            "name": name,
            "label": DETAILS_BY_NAME[name].display_label,
            "value": detail_display_value(name, values[name]) if values.get(name) else None,
            "checked": bool(values.get(name)) and name in ticked,
        }
        for name in session.scopes
    ]
    return render(
        request,
        "transfers/consent.html",
        {"session": session, "organization": session.organization, "scopes": scopes, "form": form},
        status=400 if form is not None else 200,
    )
