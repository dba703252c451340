"""The actor's page address: a signed link, so that an identification id alone opens nothing."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from apps.core.signed_links import signed_link_token, signed_link_valid
from apps.identifications.models import OtpIdentification

_SALT = "apps.identifications.links"


def identification_url(identification: OtpIdentification) -> str:
    token = signed_link_token(identification.pk, salt=_SALT)
    return settings.PUBLIC_BASE_URL + reverse("identifications:page", args=[identification.pk, token])


def identification_token_valid(identification_id: object, token: str) -> bool:
    return signed_link_valid(identification_id, token, salt=_SALT)
