"""Three personas, as in healthchecks' tests: the owner's key, the owner's key without the
needed scope, and an outsider organization with its own key."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from apps.organizations.models import Organization
from tests.factories import OrganizationFactory, make_api_key


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db) -> Organization:
    return OrganizationFactory(slug="acme", name="Acme Bank")


@pytest.fixture
def other_org(db) -> Organization:
    return OrganizationFactory(slug="globex", name="Globex")


def _client(raw_key: str | None) -> APIClient:
    client = APIClient()
    if raw_key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def api(org) -> APIClient:
    """The owner's client, with every default scope."""
    return _client(make_api_key(org))


@pytest.fixture
def outsider_api(other_org) -> APIClient:
    return _client(make_api_key(other_org))


@pytest.fixture
def make_client():
    return _client
