"""A Redis cache that degrades to misses while Redis is unreachable.

The cache holds only counters and short-lived hints (API rate limits, login and OTP attempt
counters: apps.core.counters; the exact caches of apps.core.exact_cache). Django's RedisCache raises on a connection error, which would turn a Redis outage
into failed requests; here every operation answers as if the key were absent instead, so
writes keep succeeding and the limits fail open until Redis is back.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from django.utils.functional import cached_property
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
WARN_EVERY_SECONDS = 10.0


class _SharedRedisCacheClient(RedisCacheClient):
    """Django's client builds a redis.Redis object for every operation; this one keeps one per
    connection pool. redis.Redis is safe to share between threads (each command borrows a
    connection from the pool), and the pool starts afresh in a forked child."""

    # What Django's RedisCacheClient sets and defines privately (django-stubs declares its
    # public methods only): annotations, no values, so the inherited ones are used.
    _client: Callable[..., Any]
    _serializer: Any
    _get_connection_pool_index: Callable[[bool], int]
    _get_connection_pool: Callable[[bool], Any]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self._clients_lock = threading.Lock()

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            with self._clients_lock:
                client = self._clients.get(index)
                if client is None:
                    client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


_clients: dict[str, _SharedRedisCacheClient] = {}
_clients_lock = threading.Lock()


class ResilientRedisCache(RedisCache):
    _last_warning = 0.0
    # Set by Django's RedisCache.__init__ (not in django-stubs).
    _servers: list[str]
    _options: dict[str, Any]

    @cached_property
    def _cache(self) -> _SharedRedisCacheClient:
        """One client (and connection pool) per process and configuration.

        Django makes a cache object per thread, each of which would otherwise open its own pool.
        """
        identity = repr((self._servers, sorted(self._options.items())))
        with _clients_lock:
            client = _clients.get(identity)
            if client is None:
                client = _clients[identity] = _SharedRedisCacheClient(self._servers, **self._options)
        return client

    def _unreachable(self, operation: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - ResilientRedisCache._last_warning >= WARN_EVERY_SECONDS:
            ResilientRedisCache._last_warning = now
            logger.warning("Cache unreachable (%s: %s); answering as a miss", operation, type(exc).__name__)

    @staticmethod
    def _count_in(pipeline: Any, key: str, timeout: int) -> None:
        # The counter's lifetime starts at its first hit and no later hit extends it (a fixed
        # window, apps.core.counters): SET NX creates it with its expiry, INCRBY counts.
        pipeline.set(key, 0, ex=timeout, nx=True)
        pipeline.incrby(key, 1)

    @staticmethod
    def _expire_recreated(client: Any, key: str, timeout: int, created: Any, count: int) -> None:
        # The counter expired between SET NX and INCRBY, and INCRBY made a new one without an
        # expiry: give it one (a second round trip, only then).
        if count == 1 and not created:
            client.expire(key, timeout)

    def incr_window(self, key: Any, timeout: int, version: int | None = None) -> int | None:
        """Count one more hit on a counter that lives `timeout` seconds from its first hit: one
        round trip (SET NX and INCRBY in a pipeline). None while Redis is unreachable, so a limit
        fails open."""
        key = self.make_and_validate_key(key, version=version)
        try:
            client = self._cache.get_client(key, write=True)
            pipeline = client.pipeline(transaction=False)
            self._count_in(pipeline, key, timeout)
            created, count = pipeline.execute()
            self._expire_recreated(client, key, timeout, created, count)
        except UNREACHABLE as exc:
            self._unreachable("incr_window", exc)
            return None
        return int(count)

    def incr_window_get(
        self, counter: Any, timeout: int, key: Any, version: int | None = None
    ) -> tuple[int | None, Any]:
        """`incr_window(counter, timeout)` and `get(key)` in the same round trip: the hot
        read paths (a status poll, an API key) count their rate limit and read their entry
        at once. (None, None) while Redis is unreachable: the limit fails open, the read misses."""
        counter = self.make_and_validate_key(counter, version=version)
        key = self.make_and_validate_key(key, version=version)
        try:
            client = self._cache.get_client(counter, write=True)
            pipeline = client.pipeline(transaction=False)
            self._count_in(pipeline, counter, timeout)
            pipeline.get(key)
            created, count, value = pipeline.execute()
            self._expire_recreated(client, counter, timeout, created, count)
        except UNREACHABLE as exc:
            self._unreachable("incr_window_get", exc)
            return None, None
        if value is None:
            return int(count), None
        try:
            return int(count), self._cache._serializer.loads(value)
        except Exception:  # an entry an older release wrote (a class since moved): a miss
            logger.warning("Unreadable cache entry %s; answering as a miss", key, exc_info=True)
            return int(count), None

    def add(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("add", exc)
            return False

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except UNREACHABLE as exc:
            self._unreachable("get", exc)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("set", exc)

    def touch(self, key: Any, timeout: Any = None, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("touch", exc)
            return False

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except UNREACHABLE as exc:
            self._unreachable("delete", exc)
            return False

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except UNREACHABLE as exc:
            self._unreachable("get_many", exc)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except UNREACHABLE as exc:
            self._unreachable("has_key", exc)
            return False

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        try:
            return super().incr(key, delta, version)
        except UNREACHABLE as exc:
            self._unreachable("incr", exc)
            # What a missing key raises: callers already fall back to set().
            raise ValueError(f"Key '{key}' not found") from exc

    def set_many(self, data: dict[Any, Any], timeout: Any = None, version: int | None = None) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except UNREACHABLE as exc:
            self._unreachable("set_many", exc)
            return list(data)

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except UNREACHABLE as exc:
            self._unreachable("delete_many", exc)

    # django-stubs types BaseCache.clear as returning None; RedisCache.clear returns the client's bool.
    def clear(self) -> bool:  # type: ignore[override]
        try:
            return self._cache.clear()
        except UNREACHABLE as exc:
            self._unreachable("clear", exc)
            return False
