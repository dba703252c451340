"""Signed HTTP POSTs (Standard Webhooks) to a checked destination, without redirects, over kept-alive connections."""

from __future__ import annotations

import contextlib
import contextvars
import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import urllib3
from standardwebhooks.webhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection

from apps.webhooks.destinations import Destination

if TYPE_CHECKING:
    from urllib3._base_connection import BaseHTTPConnection

CONNECT_TIMEOUT = 3.0
TOTAL_TIMEOUT = 10.0
EXCERPT_BYTES = 1024
USER_AGENT = "IdentityPortal-Webhooks/1.0"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendResult:
    status_code: int
    excerpt: str


def sign_headers(*, secrets: list[str], message_id: str, timestamp: datetime, body: str) -> dict[str, str]:
    """Standard Webhooks headers; during a secret rotation one signature per secret."""
    signatures = " ".join(Webhook(secret).sign(message_id, timestamp, body) for secret in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(timestamp.timestamp())),
        "webhook-signature": signatures,
    }


class _Watchdog:
    """One thread per process that calls each registered callback once its deadline passes.

    Starting a timer thread per connection cost more than the loopback send itself; this
    thread sleeps until the earliest deadline and is started again in a forked child.
    """

    def __init__(self) -> None:
        self._lock = threading.Condition()
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._live: set[int] = set()
        self._counter = itertools.count()
        self._pid = 0

    def schedule(self, deadline: float, callback: Callable[[], None]) -> int:
        with self._lock:
            if self._pid != os.getpid():  # first use, or a fork left the thread behind
                self._pid = os.getpid()
                self._heap.clear()
                self._live.clear()
                threading.Thread(target=self._run, args=(self._pid,), name="webhook-deadlines", daemon=True).start()
            token = next(self._counter)
            heapq.heappush(self._heap, (deadline, token, callback))
            self._live.add(token)
            if self._heap[0][1] == token:  # a new earliest deadline: the thread must wake sooner
                self._lock.notify()
            return token

    def cancel(self, token: int) -> None:
        with self._lock:
            self._live.discard(token)

    def _run(self, pid: int) -> None:
        while True:
            with self._lock:
                if self._pid != pid:
                    return
                while self._heap and self._heap[0][1] not in self._live:
                    heapq.heappop(self._heap)
                wait = self._heap[0][0] - time.monotonic() if self._heap else None
                if wait is None or wait > 0:
                    self._lock.wait(wait)
                    continue
                _, token, callback = heapq.heappop(self._heap)
                self._live.discard(token)
            try:
                callback()
            except Exception:
                logger.exception("Webhook deadline callback failed")


_watchdog = _Watchdog()


class _DeadlineConnection(HTTPConnection):
    """Shuts its socket down when the current send's total time is up.

    urllib3's timeouts bound each socket operation, not the exchange: a receiver trickling its
    answer a byte at a time would otherwise hold the worker, and outlive the delivery's claim.
    A kept-alive connection serves many sends, so the deadline is armed per send (when the pool
    hands the connection out) and disarmed once its answer has been read.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline_token: int | None = None

    def arm(self, deadline: float) -> None:
        self.disarm()
        self._deadline_token = _watchdog.schedule(deadline, self._expire)

    def disarm(self) -> None:
        if self._deadline_token is not None:
            _watchdog.cancel(self._deadline_token)
            self._deadline_token = None

    def _expire(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.disarm()
        super().close()


class _DeadlineHTTPSConnection(_DeadlineConnection, HTTPSConnection):
    pass


# The deadline of the send under way in this thread, read when the pool hands out a connection.
_send_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("webhook_send_deadline", default=None)


class _ArmingPool(urllib3.HTTPConnectionPool):
    """Arms the connection the pool hands out with the current send's deadline (before any I/O)."""

    def _get_conn(self, timeout: float | None = None) -> BaseHTTPConnection:
        conn = super()._get_conn(timeout)
        deadline = _send_deadline.get()
        if deadline is not None and isinstance(conn, _DeadlineConnection):
            conn.arm(deadline)
        return conn


class _HTTPPool(_ArmingPool):
    ConnectionCls = _DeadlineConnection


class _HTTPSPool(_ArmingPool, urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


# Pools kept per process; beyond this many destinations the least recently used is closed.
MAX_POOLS = 64
# Idle keep-alive connections per destination: a worker process sends one request at a time,
# so one is enough; a few more serve threads sharing the process (they never wait for one).
POOL_CONNECTIONS = 2

PoolKey = tuple[str, str, int, str]


class _Pools:
    """Keep-alive connection pools of this process, one per checked destination.

    The key holds the address the destination check resolved (the pool connects to it and to
    nothing else, with the URL's host in the Host header and TLS name), so a name that resolves
    elsewhere next time gets a pool of its own. Reset in a forked child, as the watchdog is.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pools: OrderedDict[PoolKey, urllib3.HTTPConnectionPool] = OrderedDict()
        self._pid = 0

    def get(self, destination: Destination) -> urllib3.HTTPConnectionPool:
        key = (destination.scheme, destination.address, destination.port, destination.host)
        evicted: urllib3.HTTPConnectionPool | None = None
        with self._lock:
            if self._pid != os.getpid():  # first use, or the parent's sockets after a fork
                self._pid = os.getpid()
                self._pools = OrderedDict()
            pool = self._pools.get(key)
            if pool is not None:
                self._pools.move_to_end(key)
                return pool
            pool = self._new(destination)
            self._pools[key] = pool
            if len(self._pools) > MAX_POOLS:
                _, evicted = self._pools.popitem(last=False)
        if evicted is not None:
            evicted.close()
        return pool

    @staticmethod
    def _new(destination: Destination) -> urllib3.HTTPConnectionPool:
        if destination.scheme == "https":
            return _HTTPSPool(
                destination.address,
                destination.port,
                maxsize=POOL_CONNECTIONS,
                block=False,
                retries=False,
                server_hostname=destination.host,
                assert_hostname=destination.host,
                cert_reqs="CERT_REQUIRED",
            )
        return _HTTPPool(destination.address, destination.port, maxsize=POOL_CONNECTIONS, block=False, retries=False)

    def clear(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            pool.close()


_pools = _Pools()


def _timed_out() -> urllib3.exceptions.TimeoutError:
    return urllib3.exceptions.TimeoutError(f"Timed out: no complete answer within {TOTAL_TIMEOUT:g} s")


def post(destination: Destination, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST to the checked address with the original Host (and TLS name). Raises on network errors.

    The connection is kept alive for the next send to the same destination when the answer was
    read to its end (Content-Length, at most EXCERPT_BYTES); otherwise it is closed.
    """
    deadline = time.monotonic() + TOTAL_TIMEOUT
    pool = _pools.get(destination)
    all_headers = {
        "Host": destination.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    context = _send_deadline.set(deadline)
    try:
        response = pool.urlopen(
            "POST",
            destination.target,
            body=body,
            headers=all_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            release_conn=False,
            assert_same_host=False,
            timeout=urllib3.Timeout(connect=CONNECT_TIMEOUT, total=TOTAL_TIMEOUT),
        )
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if time.monotonic() >= deadline:  # the watchdog cut the connection
            raise _timed_out() from exc
        raise
    finally:
        _send_deadline.reset(context)
    connection = response.connection
    reusable = False
    try:
        excerpt = response.read(EXCERPT_BYTES, decode_content=True).decode("utf-8", "replace")
        reusable = response.length_remaining == 0
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if time.monotonic() >= deadline:
            raise _timed_out() from exc
        raise
    finally:
        if isinstance(connection, _DeadlineConnection):
            connection.disarm()
        if not reusable:
            response.close()  # closes the connection too; the pool opens a new one next time
        response.release_conn()
    return SendResult(response.status, excerpt)
