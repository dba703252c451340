"""Idempotency-Key on mutating POSTs: a repeat with the same key and body replays the first response.

Follows the IETF httpapi Idempotency-Key draft: same key with another body → 422; a repeat
while the first request is still running → 409.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.api.models import IdempotencyRecord

HEADER = "Idempotency-Key"
# A record left in flight this long belongs to a request that died; a retry may take over.
ABANDONED_AFTER = timedelta(seconds=60)


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was already used with a different request."
    default_code = "idempotency_key_reused"


class KeyInFlight(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry shortly."
    default_code = "idempotency_key_in_flight"


class Replay(Exception):
    def __init__(self, record: IdempotencyRecord) -> None:
        self.record = record


def _fingerprint(request: Request) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    digest.update(request.body)
    return digest.hexdigest()


def idempotency_begin(request: Request, *, api_key: Any) -> IdempotencyRecord | None:
    """Claim the request's key for `api_key` (the organizations.ApiKey the request authenticated
    with; None: no idempotency). Raises Replay with the stored response for a repeat."""
    key = request.headers.get(HEADER)
    if request.method != "POST" or not key or api_key is None:
        return None
    if len(key) > 255:
        raise exceptions.ValidationError({HEADER: ["At most 255 characters."]})
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(api_key=api_key, key=key, fingerprint=fingerprint)
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.filter(api_key=api_key, key=key).first()
    if record is None:  # purged between the two statements
        return idempotency_begin(request, api_key=api_key)
    if record.fingerprint != fingerprint:
        raise KeyReused()
    if record.status_code is not None:
        raise Replay(record)
    stale = IdempotencyRecord.objects.filter(
        pk=record.pk, status_code__isnull=True, created_at__lt=timezone.now() - ABANDONED_AFTER
    ).update(created_at=timezone.now())
    if not stale:
        raise KeyInFlight()
    return record


def idempotency_abandon(record: IdempotencyRecord) -> None:
    """Forget a request that failed, so that a retry with the same key runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk).delete()


def idempotency_finish(record: IdempotencyRecord, response: Response) -> None:
    """Keep the outcome for replays."""
    if response.status_code >= 500:
        idempotency_abandon(record)
        return
    # Through DjangoJSONEncoder first: the stored body is encrypted JSON text.
    body = json.loads(json.dumps(response.data, cls=DjangoJSONEncoder))
    IdempotencyRecord.objects.filter(pk=record.pk).update(status_code=response.status_code, response_body=body)


def idempotency_replay(record: IdempotencyRecord) -> Response:
    return Response(record.response_body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def idempotency_purge(*, older_than: timedelta) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
