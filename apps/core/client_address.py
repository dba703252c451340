"""Which address a request comes from, as far as the deployment's proxies vouch for it."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The client's IP address: REMOTE_ADDR, or behind TRUSTED_PROXIES reverse proxies the
    X-Forwarded-For entry the outermost of them added. Entries further left are the client's
    own to choose, so they are never used: trusting them would let one client pick a fresh
    address for every request."""
    remote: str = request.META.get("REMOTE_ADDR") or ""
    proxies: int = settings.TRUSTED_PROXIES
    if proxies <= 0:
        return remote
    header: str = request.META.get("HTTP_X_FORWARDED_FOR", "")
    forwarded = [a.strip() for a in header.split(",") if a.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(proxies, len(forwarded))]
