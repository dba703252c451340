"""Email sign-in, with cool-offs after repeated failures.

Three counters, each over LOGIN_LOCKOUT_SECONDS:
- one account from one address (LOGIN_MAX_ATTEMPTS): locks that pair only, so whoever fails
  from their own address cannot lock the account for everyone else (the superuser included);
- one address, any account (LOGIN_MAX_ATTEMPTS_PER_IP): locks that address;
- one account, every address (LOGIN_ACCOUNT_BACKOFF_AFTER): past it, each further failure
  holds the account for a back-off that doubles from one second up to
  LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS. Guessing from many addresses slows down for all but the
  account's known addresses: those it signed in from within LOGIN_KNOWN_ADDRESS_SECONDS. A
  guess refused during a hold is not counted, so one guess a minute from ever new addresses
  would otherwise keep the account (the superuser's too) held for its owner nearly all the time.
"""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.core.client_address import client_address
from apps.core.counters import window_hit
from apps.core.crypto import lookup_hash, normalize_email


def _client_ip(request: HttpRequest | None) -> str:
    # Never a client-chosen X-Forwarded-For entry: that would give an attacker a fresh
    # "address" for every guess (see client_address and TRUSTED_PROXIES).
    return client_address(request) if request is not None else ""


def _account(email: str) -> str:
    # Hashed: the cache holds no email address in clear.
    return lookup_hash(normalize_email(email))


def _stems(request: HttpRequest | None, email: str | None) -> dict[str, str]:
    """The cache key stems of the counters an attempt touches, by kind."""
    stems = {}
    ip = _client_ip(request)
    if email:
        stems["pair"] = f"login:pair:{_account(email)}:{ip}"
        stems["account"] = f"login:account:{_account(email)}"
    if ip:
        stems["ip"] = f"login:ip:{ip}"
    return stems


def _known_address_key(request: HttpRequest | None, email: str | None) -> str | None:
    ip = _client_ip(request)
    if not (email and ip):
        return None
    # One hash of both: the cache holds neither the email nor the address in clear.
    return f"login:known:{lookup_hash(f'{_account(email)}|{ip}')}"


def login_lockout_remaining(request: HttpRequest | None, email: str | None) -> int:
    """Seconds until sign-in is allowed again for this email from this address; 0 when it is."""
    now = time.time()
    remaining = 0.0
    stems = _stems(request, email)
    known = _known_address_key(request, email)
    if "account" in stems and known is not None and cache.get(known):
        # The account's own network: the account-wide hold, which anyone can cause from
        # elsewhere, does not apply (this pair's and this address's limits still do).
        del stems["account"]
    for stem in stems.values():
        until = cache.get(f"{stem}:locked-until")
        if until is not None:
            remaining = max(remaining, until - now)
    return math.ceil(remaining) if remaining > 0 else 0


def _count(stem: str, window: int) -> int:
    """One more failure on the stem's counter, which lives `window` seconds from its first failure."""
    count = window_hit(cache, f"{stem}:failures", window)
    return 1 if count is None else count  # the cache is unreachable: this failure alone


def _lock(stem: str, seconds: float) -> None:
    cache.set(f"{stem}:locked-until", time.time() + seconds, timeout=max(1, math.ceil(seconds)))


def login_failure_record(request: HttpRequest | None, email: str | None) -> None:
    """Count a failed sign-in against the (account, address) pair, the address and the account."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    stems = _stems(request, email)
    if "pair" in stems and _count(stems["pair"], window) >= settings.LOGIN_MAX_ATTEMPTS:
        _lock(stems["pair"], window)
        cache.delete(f"{stems['pair']}:failures")
    if "ip" in stems and _count(stems["ip"], window) >= settings.LOGIN_MAX_ATTEMPTS_PER_IP:
        _lock(stems["ip"], window)
        cache.delete(f"{stems['ip']}:failures")
    if "account" in stems:
        beyond = _count(stems["account"], window) - settings.LOGIN_ACCOUNT_BACKOFF_AFTER
        if beyond >= 0:
            _lock(stems["account"], min(2.0**beyond, settings.LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS))


def login_success_record(request: HttpRequest | None, email: str | None) -> None:
    """A correct password forgets the pair's and the account's failures (not the address's), and
    makes the address one of the account's known addresses."""
    stems = _stems(request, email)
    for kind in ("pair", "account"):
        if kind in stems:
            cache.delete(f"{stems[kind]}:failures")
    known = _known_address_key(request, email)
    if known is not None:
        cache.set(known, 1, timeout=settings.LOGIN_KNOWN_ADDRESS_SECONDS)


class EmailBackend(ModelBackend):
    """Sign in with email and password.

    ModelBackend already looks people up through UserManager.get_by_natural_key, which
    hashes the email. While the email from this address, the address or the account is
    held off, no password is checked at all (PermissionDenied ends authenticate() for every backend), so guessing
    on during the cool-off learns nothing. The admin's sign-in goes through here too.
    """

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> Any:
        email = username if username is not None else kwargs.get("email")
        if login_lockout_remaining(request, email):
            raise PermissionDenied("Too many failed sign-in attempts.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            if email and password is not None:
                login_failure_record(request, email)
        else:
            login_success_record(request, email)
        return user
