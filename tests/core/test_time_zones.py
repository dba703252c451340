from __future__ import annotations

import pytest
from django.test import RequestFactory

from apps.core.time_zones import request_time_zone, time_zone_get


@pytest.mark.parametrize("name", ["", "Mars/Olympus", "../../etc/passwd", "Europe/Madrid\x00"])
def test_it_ignores_what_is_no_time_zone(name):
    assert time_zone_get(name) is None


def test_it_takes_the_browsers_zone_from_the_cookie():
    request = RequestFactory().get("/")
    request.COOKIES["tz"] = "America/Bogota"

    assert str(request_time_zone(request)) == "America/Bogota"


def test_without_a_cookie_the_portals_zone_stays():
    assert request_time_zone(RequestFactory().get("/")) is None


@pytest.mark.django_db
def test_a_saved_zone_comes_before_the_cookie():
    from tests.factories import make_person

    person = make_person("tz@example.com")
    person.time_zone = "Asia/Tokyo"
    request = RequestFactory().get("/")
    request.COOKIES["tz"] = "America/Bogota"
    request.user = person

    assert str(request_time_zone(request)) == "Asia/Tokyo"
