"""The portal's own error pages where Django would answer a bare one.

Django answers an unknown URL with HttpResponseNotFound (its debug page while DEBUG is on,
templates/404.html otherwise) and a wrong method with an empty HttpResponseNotAllowed. Both
become the portal's pages here, whatever DEBUG says; a view's own 404 page (an unknown
transfer session, an invalid link) is a plain HttpResponse and is kept. API paths are turned
into their JSON error shape by apps.api.middleware.ApiErrorMiddleware, which runs outside this
one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseNotFound
from django.template.loader import render_to_string


class ErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed):
            page = HttpResponse(render_to_string("405.html", request=request), status=405)
            page["Allow"] = response["Allow"]
            return page
        if isinstance(response, HttpResponseNotFound) and not getattr(response, "error_page", False):
            return page_not_found(request)
        return response


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """handler404: templates/404.html, marked so the middleware does not render it again."""
    page = HttpResponseNotFound(render_to_string("404.html", request=request))
    page.error_page = True  # type: ignore[attr-defined]
    return page
