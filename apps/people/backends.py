"""Email sign-in, with a cool-off after repeated failures for one email or one IP address."""

from __future__ import annotations

import math
import time
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from apps.api.throttles import client_address
from apps.people.crypto import lookup_hash, normalize_email


def _client_ip(request: HttpRequest | None) -> str:
    # Never a client-chosen X-Forwarded-For entry: that would give an attacker a fresh
    # "address" for every guess (see client_address and TRUSTED_PROXIES).
    return client_address(request) if request is not None else ""


def _subjects(request: HttpRequest | None, email: str | None) -> list[tuple[str, int]]:
    """(cache key stem, allowed failures) for the email and the IP address of an attempt."""
    subjects = []
    if email:
        # Hashed: the cache holds no email address in clear.
        subjects.append((f"login:email:{lookup_hash(normalize_email(email))}", settings.LOGIN_MAX_ATTEMPTS))
    if ip := _client_ip(request):
        subjects.append((f"login:ip:{ip}", settings.LOGIN_MAX_ATTEMPTS_PER_IP))
    return subjects


def login_lockout_remaining(request: HttpRequest | None, email: str | None) -> int:
    """Seconds until sign-in is allowed again for this email and IP address; 0 when it is."""
    now = time.time()
    remaining = 0.0
    for stem, _ in _subjects(request, email):
        until = cache.get(f"{stem}:locked-until")
        if until is not None:
            remaining = max(remaining, until - now)
    return math.ceil(remaining) if remaining > 0 else 0


def login_failure_record(request: HttpRequest | None, email: str | None) -> None:
    """Count a failed sign-in; LOGIN_MAX_ATTEMPTS (per email) or LOGIN_MAX_ATTEMPTS_PER_IP
    failures within LOGIN_LOCKOUT_SECONDS lock that email or address for LOGIN_LOCKOUT_SECONDS."""
    window = settings.LOGIN_LOCKOUT_SECONDS
    for stem, limit in _subjects(request, email):
        key = f"{stem}:failures"
        cache.add(key, 0, timeout=window)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window)
            failures = 1
        if failures >= limit:
            cache.set(f"{stem}:locked-until", time.time() + window, timeout=window)
            cache.delete(key)


def login_success_record(request: HttpRequest | None, email: str | None) -> None:
    """A correct password forgets the email's failures (not the address's)."""
    if email:
        cache.delete(f"login:email:{lookup_hash(normalize_email(email))}:failures")


class EmailBackend(ModelBackend):
    """Sign in with email and password.

    ModelBackend already looks people up through UserManager.get_by_natural_key, which
    hashes the email. While an email or an IP address is locked out, no password is
    checked at all (PermissionDenied ends authenticate() for every backend), so guessing
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
