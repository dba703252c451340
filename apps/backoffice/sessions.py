"""Staff sessions end after STAFF_SESSION_IDLE_SECONDS idle and STAFF_SESSION_MAX_SECONDS in all.

A staff account reaches every organization's objects it works for, so a forgotten browser
tab or a stolen cookie must not stay useful for the two weeks a person's session lasts.
The start and last-seen times live in the session itself; the middleware ends a staff
session that is past either limit (or that has no start time: it began before the limits).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext

STARTED = "staff_session_started_at"
SEEN = "staff_session_seen_at"
# Last-seen is written at most this often, so a busy page does not save its session on every request.
SEEN_RESOLUTION_SECONDS = 30


def is_staff_account(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and (user.is_staff or user.is_superuser))


def staff_session_start(*, request: HttpRequest, user: Any) -> None:
    """Called on every sign-in: a staff session gets its clock and an idle expiry on the cookie."""
    if not is_staff_account(user):
        return
    now = time.time()
    request.session[STARTED] = now
    request.session[SEEN] = now
    request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)


def staff_session_expired(session: Any, *, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    started, seen = session.get(STARTED), session.get(SEEN)
    if started is None or seen is None:
        return True
    return now - started > settings.STAFF_SESSION_MAX_SECONDS or now - seen > settings.STAFF_SESSION_IDLE_SECONDS


class StaffSessionMiddleware:
    """Ends a staff session past its limits before any view sees it; people's sessions pass untouched."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Only a signed-in session can be a staff one: anonymous requests (the API) load no user.
        if SESSION_KEY in request.session and is_staff_account(request.user):
            now = time.time()
            if staff_session_expired(request.session, now=now):
                logout(request)
                messages.info(request, gettext("Your back-office session ended. Sign in again."))
            elif now - request.session[SEEN] >= SEEN_RESOLUTION_SECONDS:
                request.session[SEEN] = now
        return self.get_response(request)
