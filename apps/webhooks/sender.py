"""Signed HTTP POSTs (Standard Webhooks) to a checked destination, without redirects."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import urllib3
from standardwebhooks.webhooks import Webhook

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


def post(destination: Destination, body: bytes, headers: dict[str, str]) -> SendResult:
    """POST to the checked address with the original Host (and TLS name). Raises on network errors."""
    timeout = urllib3.Timeout(connect=CONNECT_TIMEOUT, total=TOTAL_TIMEOUT)
    pool: urllib3.HTTPConnectionPool
    if destination.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            destination.address,
            destination.port,
            timeout=timeout,
            retries=False,
            server_hostname=destination.host,
            assert_hostname=destination.host,
            cert_reqs="CERT_REQUIRED",
        )
    else:
        pool = urllib3.HTTPConnectionPool(destination.address, destination.port, timeout=timeout, retries=False)
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
    finally:
        pool.close()
