"""Keep API paths JSON-only: Django's own 404/405/500 pages are HTML."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse

from apps.api.errors import DATABASE_UNAVAILABLE, RETRY_AFTER_SECONDS, json_error

logger = logging.getLogger("apps.api")

API_PREFIX = "/api/"
# Django answers these itself with 404/403/400; __call__ then turns its page into JSON.
DJANGO_HANDLED = (Http404, PermissionDenied, BadRequest, SuspiciousOperation)


class ApiErrorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        # A response Django built itself (unknown URL, CSRF failure, ...): say it in JSON.
        if response.status_code == 404:
            return json_error(404, "not_found", "No such resource.")
        if response.status_code == 405:
            replacement = json_error(405, "method_not_allowed", f"Method {request.method} is not allowed here.")
            if response.has_header("Allow"):
                replacement["Allow"] = response["Allow"]
            return replacement
        if response.status_code == 403:
            return json_error(403, "forbidden", "You do not have permission to perform this action.")
        if response.status_code == 400:
            return json_error(400, "bad_request", "The request could not be understood.")
        if response.status_code == 413:
            return json_error(413, "too_large", "The request body is too large.")
        if response.status_code >= 500:
            return json_error(500, "server_error", "An unexpected error occurred; it has been logged.")
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_UNAVAILABLE):
            # Pages and API alike: a retryable 503, not a 500 (nothing is wrong with the request).
            logger.warning("Database unavailable on %s %s: %s", request.method, request.path, type(exception).__name__)
            response: HttpResponse
            if request.path.startswith(API_PREFIX):
                response = json_error(503, "unavailable", "The service is temporarily unavailable; retry shortly.")
            else:
                response = HttpResponse(
                    "The service is temporarily unavailable. Please try again in a moment.\n",
                    status=503,
                    content_type="text/plain; charset=utf-8",
                )
            response["Retry-After"] = str(RETRY_AFTER_SECONDS)
            return response
        if not request.path.startswith(API_PREFIX) or isinstance(exception, DJANGO_HANDLED):
            return None
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return json_error(500, "server_error", "An unexpected error occurred; it has been logged.")
