"""Fixed-window counters in the cache: the one counting mechanism of the rate limits, the message
limits and the sign-in lockouts.

A counter lives `timeout` seconds from its first hit and is never extended by later hits, so
a window is fixed: the API's throttles and the message limits name one counter per
epoch-aligned window (`WindowLimit`), the sign-in lockouts one counter from the first failure.
Every count is one atomic increment (Redis INCR, one round trip on apps.core.cache), and a
cache that cannot be reached counts nothing: the limits fail open.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache as default_cache


def window_hit(cache: Any, key: str, timeout: int) -> int | None:
    """Count a hit on the counter `key`, created to live `timeout` seconds; None if the cache is
    unreachable. One round trip on Redis (ResilientRedisCache.incr_window)."""
    incr_window = getattr(cache, "incr_window", None)
    count: int | None
    if incr_window is not None:
        count = incr_window(key, timeout)
        return count
    cache.add(key, 0, timeout)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr(), or the cache is unreachable
        return None
    return count


def window_hit_get(cache: Any, counter: str, timeout: int, key: str) -> tuple[int | None, Any]:
    """window_hit(counter) and cache.get(key) together: one round trip on Redis
    (ResilientRedisCache.incr_window_get), two operations elsewhere."""
    incr_window_get = getattr(cache, "incr_window_get", None)
    if incr_window_get is not None:
        both: tuple[int | None, Any] = incr_window_get(counter, timeout, key)
        return both
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
    call through, like every other limit here (apps.core.cache)."""
    if cache is None:
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
