"""Rate limits for the API's unauthenticated endpoints (API keys have their own: apps.organizations)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.throttling import SimpleRateThrottle

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


def client_address(request: HttpRequest) -> str:
    """The client's IP address: REMOTE_ADDR, or behind TRUSTED_PROXIES reverse proxies the
    X-Forwarded-For entry the outermost of them added. Entries further left are the client's
    own to choose, so they are never used: trusting them would let one client pick a fresh
    address for every request."""
    remote = request.META.get("REMOTE_ADDR") or ""
    proxies = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]


def window_hit(cache: Any, key: str, timeout: int) -> int | None:
    """Count a hit on the counter `key`, created to live `timeout` seconds; None if the cache is
    unreachable. One round trip on Redis (ResilientRedisCache.incr_window)."""
    incr_window = getattr(cache, "incr_window", None)
    if incr_window is not None:
        return incr_window(key, timeout)
    cache.add(key, 0, timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add() and incr(), or the cache is unreachable
        return None


def window_hit_get(cache: Any, counter: str, timeout: int, key: str) -> tuple[int | None, Any]:
    """window_hit(counter) and cache.get(key) together: one round trip on Redis
    (ResilientRedisCache.incr_window_get), two operations elsewhere."""
    incr_window_get = getattr(cache, "incr_window_get", None)
    if incr_window_get is not None:
        return incr_window_get(counter, timeout, key)
    return window_hit(cache, counter, timeout), cache.get(key)


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
