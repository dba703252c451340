"""One error shape for every API response: {"errors": [{"code", "message", "field"}]}."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django_fsm import TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from apps.audit.errors import StateConflict
from apps.core.counters import LimitExceeded

logger = logging.getLogger(__name__)


class Gone(exceptions.APIException):
    status_code = status.HTTP_410_GONE
    default_detail = "The data existed and has been purged."
    default_code = "gone"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


# The database is unreachable (restarting, failing over, out of connections): a retryable 503.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 5


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; retry shortly."
    default_code = "unavailable"
    wait: float | None = None  # seconds, sent as Retry-After


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object's state does not allow this action."
    default_code = "state_conflict"


def error(code: str, message: str, field: str | None = None) -> dict[str, str]:
    item = {"code": code, "message": message}
    if field:
        item["field"] = field
    return item


def error_body(*items: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {"errors": list(items)}


def json_error(status_code: int, code: str, message: str) -> JsonResponse:
    """An error response for code paths outside DRF (middleware, handlers)."""
    return JsonResponse(error_body(error(code, message)), status=status_code)


def _flatten(detail: Any, field: str | None = None) -> list[dict[str, str]]:
    """DRF's nested ValidationError detail → flat items with dotted field paths."""
    if isinstance(detail, dict):
        items = []
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                items += _flatten(value, field)
            elif isinstance(key, int):  # ListField/DictField-of-lists errors are keyed by index
                items += _flatten(value, f"{field}[{key}]" if field else str(key))
            else:
                items += _flatten(value, f"{field}.{key}" if field else str(key))
        return items
    if isinstance(detail, list):
        items = []
        for index, value in enumerate(detail):
            if isinstance(value, (dict, list)) and not isinstance(value, exceptions.ErrorDetail):
                items += _flatten(value, f"{field}[{index}]" if field else str(index))
            else:
                items += _flatten(value, field)
        return items
    code = getattr(detail, "code", None) or "invalid"
    return [error(str(code), str(detail), field)]


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Raised by request.body past DATA_UPLOAD_MAX_MEMORY_SIZE: the client's fault, not a 500.
        exc = PayloadTooLarge()
    elif isinstance(exc, DATABASE_UNAVAILABLE):
        logger.warning("Database unavailable: %s", type(exc).__name__)
        exc = ServiceUnavailable()
        exc.wait = RETRY_AFTER_SECONDS
    elif isinstance(exc, LimitExceeded):
        # A service's own limit (messages per destination): 429 with Retry-After, like the throttles.
        exc = exceptions.Throttled(wait=exc.retry_after, detail=str(exc), code=exc.code)
    elif isinstance(exc, (TransitionNotAllowed, StateConflict)):
        exc = Conflict(detail=str(exc) or Conflict.default_detail)
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )

    if not isinstance(exc, exceptions.APIException):
        return None  # ApiErrorMiddleware turns it into a JSON 500 and logs it.

    headers: dict[str, str] = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None)
    if wait:
        headers["Retry-After"] = str(int(wait))

    if isinstance(exc, exceptions.ValidationError):
        items = _flatten(exc.detail)
    else:
        items = [error(getattr(exc.detail, "code", None) or exc.default_code, str(exc.detail))]
    set_rollback()
    return Response(error_body(*items), status=exc.status_code, headers=headers)
