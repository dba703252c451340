"""The API's rate limits: DRF throttles counted in fixed windows (apps.core.counters). API keys
have theirs in apps.organizations.throttling; the limits on messages that reach a person are
apps.core.message_limits."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from apps.core.client_address import client_address
from apps.core.counters import window_hit

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def counted_windows(request: Any) -> dict[str, int]:
    """The counters a fast path has already counted this request on (see WindowRateThrottle)."""
    counts = getattr(request, "window_counts", None)
    if counts is None:
        counts = request.window_counts = {}
    return counts


class WindowRateThrottle(SimpleRateThrottle):
    """DRF's rate syntax counted in fixed windows of the rate's period (aligned to the epoch):
    one counter increment per request instead of reading and rewriting a list of timestamps.
    Past the limit, 429 with Retry-After = the time left in the window.

    A hot path that counts the hit itself, in the same Redis round trip as its own read
    (window_hit_get), records the count in `counted_windows(request)`; the throttle then
    uses that count instead of counting the request twice."""

    window_end = 0.0
    # Set by SimpleRateThrottle.__init__ from the rate (not in djangorestframework-stubs).
    num_requests: int
    duration: int

    def window_counter(self, request: Any, view: Any) -> tuple[str, int] | None:
        """The counter this request counts on and the seconds it lives; None if not limited."""
        if self.rate is None:
            return None
        key = self.get_cache_key(request, view)
        if key is None:
            return None
        return self.window_of(key)

    def window_of(self, key: str) -> tuple[str, int]:
        """The current window's counter for the throttle key `key`, and the seconds it lives."""
        self.key = key
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        return f"{self.key}:{window}", math.ceil(self.duration) + 1

    def allow_request(self, request: Request, view: APIView) -> bool:
        counter = self.window_counter(request, view)
        if counter is None:
            return True
        count = counted_windows(request).get(counter[0])
        if count is None:
            count = window_hit(self.cache, *counter)
        if count is None or count <= self.num_requests:
            return True
        return self.throttle_failure()

    def wait(self) -> float | None:
        return max(self.window_end - self.now, 0.0)


class SessionStatusRateThrottle(WindowRateThrottle):
    """SESSION_STATUS_RATE_LIMIT polls (default 10/s) per data-transfer session and client
    address; 429 with Retry-After past it.

    A display polls its own session every few seconds when its WebSocket is down, so the
    limit only stops a runaway loop or a flood of guesses. It is counted before the
    session token is checked, so wrong tokens are limited too. The address is
    client_address(): X-Forwarded-For only as far as TRUSTED_PROXIES vouch for it.
    """

    scope = "session_status"

    def get_rate(self) -> str:
        return settings.SESSION_STATUS_RATE_LIMIT

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        session_id = view.kwargs.get("session_id")
        if session_id is None:
            return None
        address = client_address(request) or "unknown"
        return self.cache_format % {"scope": self.scope, "ident": f"{session_id}:{address}"}
