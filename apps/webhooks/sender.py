"""Signed HTTP POSTs (Standard Webhooks) to a checked destination, without redirects."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
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


class _DeadlineConnection(HTTPConnection):
    """Shuts its socket down when the send's total time is up.

    urllib3's timeouts bound each socket operation, not the exchange: a receiver trickling its
    answer a byte at a time would otherwise hold the worker, and outlive the delivery's claim.
    """

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._watchdog = threading.Timer(max(deadline - time.monotonic(), 0.0), self._expire)
        self._watchdog.daemon = True
        self._watchdog.start()

    def _expire(self) -> None:
        if self.sock is not None:
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._watchdog.cancel()
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
