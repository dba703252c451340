from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings

from apps.api.throttles import WindowRateThrottle
from apps.organizations.models import ApiKey

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class ApiKeyRateThrottle(WindowRateThrottle):
    """API_RATE_LIMIT requests per key (default 600/min); 429 with Retry-After past it.

    Counted by ApiKeyAuthentication in the round trip that reads the key
    (`counter_for`), and only kept for a key that turns out valid."""

    scope = "api_key"

    def get_rate(self) -> str:
        # Read at request time so the setting (and tests) can change it without a restart.
        return settings.API_RATE_LIMIT

    @staticmethod
    def ident(prefix: str, hashed: str) -> str:
        # The prefix alone is visible (back office, logs): a counter named by it could be run
        # up by anyone sending wrong secrets with a victim's prefix. The hash of the whole key
        # names one counter per presented key instead, the same one for every use of a key.
        return f"{prefix}:{hashed[:16]}"

    def counter_for(self, prefix: str, hashed: str) -> tuple[str, int] | None:
        if self.rate is None:
            return None
        return self.window_of(self.cache_format % {"scope": self.scope, "ident": self.ident(prefix, hashed)})

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        if isinstance(request.auth, ApiKey):
            ident = self.ident(request.auth.prefix, request.auth.hashed_secret)
            return self.cache_format % {"scope": self.scope, "ident": ident}
        return None
