"""Signed HTTP POSTs (Standard Webhooks) to a checked destination, without redirects."""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import urllib3
from standardwebhooks.webhooks import Webhook
from urllib3.connection import HTTPConnection, HTTPSConnection

from apps.webhooks.destinations import Destination

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
    """Shuts its socket down when the send's total time is up.

    urllib3's timeouts bound each socket operation, not the exchange: a receiver trickling its
    answer a byte at a time would otherwise hold the worker, and outlive the delivery's claim.
    """

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = _watchdog.schedule(deadline, self._expire)

    def _expire(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        _watchdog.cancel(self._watchdog)
        super().close()


class _DeadlineHTTPSConnection(_DeadlineConnection, HTTPSConnection):
    pass


class _HTTPPool(urllib3.HTTPConnectionPool):
    ConnectionCls = _DeadlineConnection


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


def post(destination: Destination, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST to the checked address with the original Host (and TLS name). Raises on network errors."""
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, total=TOTAL_TIMEOUT)
    deadline = time.monotonic() + TOTAL_TIMEOUT
    pool: urllib3.HTTPConnectionPool
    if destination.scheme == "https":
        pool = _HTTPSPool(
            destination.address,
            destination.port,
            timeout=timeout,
            retries=False,
            server_hostname=destination.host,
            assert_hostname=destination.host,
            cert_reqs="CERT_REQUIRED",
            deadline=deadline,
        )
    else:
        pool = _HTTPPool(destination.address, destination.port, timeout=timeout, retries=False, deadline=deadline)
    all_headers = {
        "Host": destination.host_header,
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **headers,
    }
    try:
        response = pool.urlopen(
            "POST",
            destination.target,
            body=body,
            headers=all_headers,
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            excerpt = response.read(EXCERPT_BYTES, decode_content=True).decode("utf-8", "replace")
        finally:
            response.release_conn()
            response.close()
        return SendResult(response.status, excerpt)
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        if time.monotonic() >= deadline:  # the watchdog cut the connection
            raise urllib3.exceptions.TimeoutError(f"Timed out: no complete answer within {TOTAL_TIMEOUT:g} s") from exc
        raise
    finally:
        pool.close()
