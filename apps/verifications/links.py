"""The hosted page's address: a signed link, so that a process id alone opens nothing."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from apps.verifications.models import VerificationProcess

_SALT = "apps.verifications.links"


def process_url(process: VerificationProcess) -> str:
    token = signing.dumps(str(process.pk), salt=_SALT, compress=True)
    return settings.PUBLIC_BASE_URL + reverse("verifications:page", args=[process.pk, token])


def process_token_valid(process_id: object, token: str) -> bool:
    try:
        return signing.loads(token, salt=_SALT) == str(process_id)
    except signing.BadSignature:
        return False
