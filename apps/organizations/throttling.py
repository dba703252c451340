from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from apps.api.throttles import WindowRateThrottle
from apps.organizations.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ApiKeyRateThrottle(WindowRateThrottle):
    """API_RATE_LIMIT requests per key (default 600/min); 429 with Retry-After past it."""

    scope = "api_key"

    def get_rate(self) -> str:
        # Read at request time so the setting (and tests) can change it without a restart.
        return settings.API_RATE_LIMIT

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiKey):
            return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
        return None
