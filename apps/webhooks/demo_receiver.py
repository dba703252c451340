"""The demo's webhook receiver: a page of the portal that `make run` registers as the demo
organization's endpoint, so every state change the demo makes is delivered, signed, over HTTP by
the Celery worker, the way an integrator's receiver gets it.

Answers only where DEMO_WEBHOOK_RECEIVER is on (config.settings.local; 404 elsewhere). It checks the Standard
Webhooks signature with the secrets of the endpoints registered at its own address and appends
one line per delivery to DEMO_WEBHOOK_LOG (var/demo-webhooks.log): time, webhook-id, event type,
the object's id and state, and whether the signature verified. Payloads carry no personal values
(ids and states), and the line holds only these fields.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from apps.webhooks.models import WebhookEndpoint

logger = logging.getLogger(__name__)
PATH_NAME = "demo-webhook-receiver"


def demo_receiver_url() -> str:
    return settings.PUBLIC_BASE_URL + reverse(PATH_NAME)


def _verified(body: bytes, headers: dict[str, str]) -> bool:
    for endpoint in WebhookEndpoint.objects.filter(url=demo_receiver_url()):
        for secret in endpoint.signing_secrets():
            try:
                Webhook(secret).verify(body, headers)
            except WebhookVerificationError:
                continue
            return True
    return False


def _line(message: dict[str, Any], headers: dict[str, str], verified: bool) -> str:
    inner = message.get("data")
    data: dict[str, Any] = inner if isinstance(inner, dict) else message  # a notification has no envelope
    state = next((data[k] for k in ("status", "state") if k in data), "")
    object_id = next((data[k] for k in ("id", "processId", "session_id", "activity_id") if k in data), "")
    return "\t".join(
        [
            timezone.now().isoformat(timespec="seconds"),
            headers.get("webhook-id", ""),
            str(message.get("type", "")),
            str(object_id),
            str(state),
            "signature verified" if verified else "SIGNATURE NOT VERIFIED",
        ]
    )


@csrf_exempt
@require_POST
def demo_receiver(request: HttpRequest) -> HttpResponse:
    if not settings.DEMO_WEBHOOK_RECEIVER:
        raise Http404
    headers = {name: request.headers.get(name, "") for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    body = request.body
    verified = _verified(body, headers)
    try:
        message = json.loads(body)
    except ValueError:
        return JsonResponse({"errors": [{"code": "invalid_json", "message": "Not JSON."}]}, status=400)
    if not isinstance(message, dict):
        message = {}
    line = _line(message, headers, verified)
    log = Path(settings.DEMO_WEBHOOK_LOG)
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
    logger.info("Demo webhook receiver: %s", line)
    # 401 for a bad signature, as a real receiver answers: the portal then retries and shows it.
    return HttpResponse(status=204 if verified else 401)
