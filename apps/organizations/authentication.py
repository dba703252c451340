"""`Authorization: Bearer <api key>` for the integrator API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rest_framework import authentication, exceptions

from apps.api.throttles import counted_windows
from apps.core.counters import window_hit_get
from apps.organizations import key_cache
from apps.organizations.models import ApiKey, Organization
from apps.organizations.selectors import api_key_parse, api_key_verify
from apps.organizations.services import api_key_touch
from apps.organizations.throttling import ApiKeyRateThrottle

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
        parsed = api_key_parse(raw)
        key = None if parsed is None else self._verify(request, *parsed)
        if key is None:
            raise exceptions.AuthenticationFailed(
                "The API key is not valid or has been revoked.", code="invalid_api_key"
            )
        api_key_touch(api_key=key)
        return ApiClient(key), key

    @staticmethod
    def _verify(request: Request, prefix: str, hashed: str) -> ApiKey | None:
        """The key, read in the same cache round trip that counts the request for the key's
        rate limit (ApiKeyRateThrottle then reuses the count). A wrong key's count is dropped."""
        throttle = ApiKeyRateThrottle()
        counter = throttle.counter_for(prefix, hashed)
        if counter is None:
            return api_key_verify(prefix, hashed, key_cache.key_cached(prefix))
        count, entry = window_hit_get(throttle.cache, *counter, key_cache.entry_key(prefix))
        key = api_key_verify(prefix, hashed, entry)
        if key is None:
            throttle.cache.delete(counter[0])
        elif count is not None:
            counted_windows(request)[counter[0]] = count
        return key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
