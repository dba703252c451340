from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import make_person
from tests.oauth.flow import register_app


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person(db):
    return make_person("ana@example.com", first_name="Ana", last_name="García", phone="+34600000001")


@pytest.fixture
def stranger(db):
    return make_person("eve@example.com", first_name="Eve", last_name="Stone")


@pytest.fixture
def app(db):
    return register_app()
