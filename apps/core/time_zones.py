"""The time zone pages show times in: the person's saved one, else their browser's (a cookie
that static/js/time-zone.js sets), else settings.TIME_ZONE."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

COOKIE_NAME = "tz"


@cache
def _known_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_names() -> list[str]:
    """Every IANA zone a person may choose, by name."""
    return sorted(_known_zones())


def time_zone_get(name: str | None) -> zoneinfo.ZoneInfo | None:
    """The zone named `name` if it is a real IANA zone; None for anything else (a cookie is input)."""
    if not name or name not in _known_zones():
        return None
    return zoneinfo.ZoneInfo(name)


def request_time_zone(request: HttpRequest) -> zoneinfo.ZoneInfo | None:
    user = getattr(request, "user", None)
    saved = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
    return time_zone_get(saved) or time_zone_get(request.COOKIES.get(COOKIE_NAME))


class TimeZoneMiddleware:
    """Activates the request's time zone for templates and formats (after authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone = request_time_zone(request)
        if zone is None:
            timezone.deactivate()
        else:
            timezone.activate(zone)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
