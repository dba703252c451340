from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import make_person

CREATE_URL = "/api/v1/orgs/acme/sessions"


@pytest.fixture
def new_session(api):
    """Create a session through the API; returns its 201 body."""

    def create(**body):
        response = api.post(CREATE_URL, {"scopes": ["first_name", "last_name"], **body}, format="json")
        assert response.status_code == 201, response.json()
        return response.json()

    return create


@pytest.fixture
def ana(db):
    return make_person("ana@example.com", first_name="Ana", last_name="García")


@pytest.fixture
def phone(ana):
    """Ana's signed-in browser, with CSRF enforced as in real life."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(ana)
    return client


def csrf_post(client, url, data, *, json=True):
    client.get("/me/")  # a page with a form sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    if json:
        return client.post(url, data, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    return client.post(url, {**data, "csrfmiddlewaretoken": token})
