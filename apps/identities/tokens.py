"""Single-use, expiring invitation links, in the manner of django.contrib.auth.tokens.

The HMAC covers the identity's state and the time the invitation was sent, so the link
stops working once the identity is activated or a newer invitation is sent.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.http import base36_to_int, int_to_base36

from apps.identities.models import ExternalPersonalIdentity

_SALT = "apps.identities.tokens.invitation"


def _now() -> datetime:
    return timezone.now()


def _signature(identity: ExternalPersonalIdentity, timestamp: int) -> str:
    sent = identity.invitation_sent_at.timestamp() if identity.invitation_sent_at else ""
    value = f"{identity.pk}|{identity.state}|{identity.email_hash}|{sent}|{identity.invitation_count}|{timestamp}"
    return salted_hmac(_SALT, value, algorithm="sha256").hexdigest()[::2]


def invitation_token_make(identity: ExternalPersonalIdentity) -> str:
    timestamp = int(_now().timestamp())
    return f"{int_to_base36(timestamp)}-{_signature(identity, timestamp)}"


def invitation_token_check(identity: ExternalPersonalIdentity, token: str) -> bool:
    try:
        ts_b36, signature = token.split("-", 1)
        timestamp = base36_to_int(ts_b36)
    except ValueError:
        return False
    if not constant_time_compare(_signature(identity, timestamp), signature):
        return False
    return int(_now().timestamp()) - timestamp <= settings.INVITATION_TTL_SECONDS
