"""The actor's page address: a signed link, so that an identification id alone opens nothing."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.urls import reverse

from apps.identifications.models import OtpIdentification

_SALT = "apps.identifications.links"


def identification_url(identification: OtpIdentification) -> str:
    token = signing.dumps(str(identification.pk), salt=_SALT, compress=True)
    return settings.PUBLIC_BASE_URL + reverse("identifications:page", args=[identification.pk, token])


def identification_token_valid(identification_id: object, token: str) -> bool:
    try:
        return signing.loads(token, salt=_SALT) == str(identification_id)
    except signing.BadSignature:
        return False
