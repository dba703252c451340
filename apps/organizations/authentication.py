"""`Authorization: Bearer <api key>` for the integrator API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rest_framework import authentication, exceptions

from apps.organizations.models import ApiKey, Organization
from apps.organizations.selectors import api_key_from_raw
from apps.organizations.services import api_key_touch

if TYPE_CHECKING:
    from rest_framework.request import Request


@dataclass(frozen=True)
class ApiClient:
    """request.user for API-key requests: the organization acting through a key."""

    api_key: ApiKey

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    @property
    def organization(self) -> Organization:
        return self.api_key.organization

    @property
    def pk(self) -> str:
        return str(self.api_key.pk)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[ApiClient, ApiKey] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Use 'Authorization: Bearer <api key>'.", code="invalid_api_key")
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("The API key is not valid.", code="invalid_api_key") from None
        key = api_key_from_raw(raw)
        if key is None:
            raise exceptions.AuthenticationFailed(
                "The API key is not valid or has been revoked.", code="invalid_api_key"
            )
        api_key_touch(api_key=key)
        return ApiClient(key), key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
