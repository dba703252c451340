"""Fixed-window counters in the cache: the rate limits of the API's unauthenticated endpoints
(API keys have theirs in apps.organizations), and the limits on messages that reach a person."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
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


class LimitExceeded(Exception):
    """A window limit is spent; retry after `retry_after` seconds (HTTP 429 with Retry-After)."""

    def __init__(self, message: str, retry_after: int, code: str = "throttled") -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.code = code


@dataclass(frozen=True)
class WindowLimit:
    """At most `limit` hits on the counter `name` per fixed window of `seconds` (epoch-aligned)."""

    name: str
    limit: int
    seconds: int
    message: str


def window_limits_take(limits: Sequence[WindowLimit], *, cache: Any = None, code: str = "throttled") -> None:
    """Count one hit on every limit's current window, or none: past any limit, the hits just
    counted are given back and LimitExceeded says when the fullest window ends.

    Each count is one atomic increment (Redis INCR), so of two concurrent callers racing for the
    last slot exactly one gets it. A cache that cannot be reached counts nothing and lets the
    call through, like every other limit here (apps.api.cache)."""
    if cache is None:
        from django.core.cache import cache as default_cache

        cache = default_cache
    now = time.time()
    taken: list[str] = []
    refused: list[tuple[WindowLimit, float]] = []
    for limit in limits:
        window = int(now // limit.seconds)
        counter = f"limit:{limit.name}:{window}"
        count = window_hit(cache, counter, limit.seconds + 1)
        if count is None:
            continue
        taken.append(counter)
        if count > limit.limit:
            refused.append((limit, (window + 1) * limit.seconds - now))
    if not refused:
        return
    for counter in taken:
        with contextlib.suppress(ValueError):  # expired or unreachable meanwhile: nothing to give back
            cache.decr(counter)
    limit, wait = max(refused, key=lambda item: item[1])
    raise LimitExceeded(limit.message, max(1, math.ceil(wait)), code)


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


# API.md "OTP identifications": every message that costs money or reaches a person is limited
# per destination (the normalised phone number or email address), whatever the organization or
# key, and per object it is about. Link messages are the identification links (create and
# resend) and the identities' invitations: they share one budget per destination, since they
# land in the same inbox.
LINK_MESSAGES_PER_DESTINATION = ((5, 3600), (20, 24 * 3600))
LINK_MESSAGES_PER_SUBJECT = (3, 3600)
MESSAGE_LIMIT_CODE = "too_many_messages"


def link_message_limits(*, destination_key: str, subject_key: str | None = None) -> list[WindowLimit]:
    """The limits one more link message to `destination_key` (a keyed hash of the normalised
    destination, never the address itself) about `subject_key` (e.g. an identification) takes."""
    limits = [
        WindowLimit(
            f"messages:{destination_key}:{seconds}",
            count,
            seconds,
            f"Too many messages were sent to this destination (at most {LINK_MESSAGES_PER_DESTINATION[0][0]} "
            f"an hour and {LINK_MESSAGES_PER_DESTINATION[1][0]} a day, whoever asks). Nothing was sent.",
        )
        for count, seconds in LINK_MESSAGES_PER_DESTINATION
    ]
    if subject_key:
        count, seconds = LINK_MESSAGES_PER_SUBJECT
        limits.append(
            WindowLimit(
                f"messages:{subject_key}:{seconds}",
                count,
                seconds,
                f"This link was sent {count} times in the last hour, the most allowed. Nothing was sent.",
            )
        )
    return limits


def link_message_take(*, destination_key: str, subject_key: str | None = None) -> None:
    """Count one link message, or raise LimitExceeded (code too_many_messages) and count none."""
    window_limits_take(
        link_message_limits(destination_key=destination_key, subject_key=subject_key), code=MESSAGE_LIMIT_CODE
    )
