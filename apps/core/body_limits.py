"""A cap on the whole request body, whatever its content type, before anything reads it.

Django caps what it holds in memory (DATA_UPLOAD_MAX_MEMORY_SIZE) but not the total of a
multipart body: its file parts stream to temporary files however large they are, and the CSRF
middleware parses a multipart POST on any page (an 80 MB upload to /accounts/login/ was read in
full). Here a body announced larger than the cap answers 413 before any middleware or view reads
a byte of it; a body of unknown length (Transfer-Encoding: chunked) answers 411 under WSGI, where
Django would not read it anyway, and is counted and cut off at the cap under ASGI.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

API_PREFIX = "/api/"


def body_limit(path: str) -> int:
    """The largest body, in bytes, a request to `path` may send."""
    limit: int
    if any(path.startswith(prefix) for prefix in settings.REQUEST_BODY_UPLOAD_PATHS):
        limit = settings.REQUEST_BODY_UPLOAD_MAX_BYTES
    else:
        limit = settings.REQUEST_BODY_MAX_BYTES
    return limit


def _api_error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "message": message}]}, status=status)


def _refusal(path: str, status: int) -> HttpResponse:
    if path.startswith(API_PREFIX):
        # The API speaks English, in its error shape (apps.api.errors), written out here since
        # the base layer imports no app.
        if status == 411:
            return _api_error(411, "length_required", "Send the request body with a Content-Length.")
        return _api_error(413, "too_large", "The request is too large.")
    if status == 411:
        message = _("Send the form again: your browser sent it in a way this site does not accept.")
    else:
        message = _("What you sent is too large. Files may be at most 5 MB each.")
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


class RequestBodyLimitMiddleware:
    """WSGI: refuse an oversized or unbounded body from its headers alone (413 / 411)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.META.get("HTTP_TRANSFER_ENCODING") and not request.META.get("CONTENT_LENGTH"):
            return _refusal(request.path, 411)
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django itself reads no body then
        if length > body_limit(request.path):
            return _refusal(request.path, 413)
        return self.get_response(request)


Scope = dict[str, Any]
Message = Mapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class AsgiBodyLimit:
    """ASGI (daphne: the ws process and `make run`): Django's ASGI handler reads the whole body
    before any middleware runs, so the cap is applied here, around it. A body announced too
    large is refused at once; one that turns out too large while it arrives is cut off (the
    application sees the client leave) and refused."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = body_limit(scope.get("path", ""))
        headers = dict(scope.get("headers") or [])
        try:
            announced = int(headers.get(b"content-length", b"0") or 0)
        except ValueError:
            announced = 0
        if announced > limit:
            await self._refuse(scope, send)
            return
        received = 0
        exceeded = False
        started = False

        async def limited_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, limited_receive, tracking_send)
        if exceeded and not started:
            await self._refuse(scope, send)

    @staticmethod
    async def _refuse(scope: Scope, send: Send) -> None:
        response = _refusal(scope.get("path", ""), 413)
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", response["Content-Type"].encode()),
                    (b"content-length", str(len(response.content)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.content})
