"""The hosted page's address: a signed link, so that a process id alone opens nothing."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from apps.core.signed_links import signed_link_token, signed_link_valid
from apps.verifications.models import VerificationProcess

_SALT = "apps.verifications.links"


def process_url(process: VerificationProcess) -> str:
    token = signed_link_token(process.pk, salt=_SALT)
    return settings.PUBLIC_BASE_URL + reverse("verifications:page", args=[process.pk, token])


def process_token_valid(process_id: object, token: str) -> bool:
    return signed_link_valid(process_id, token, salt=_SALT)
