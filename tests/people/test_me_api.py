"""GET /api/v1/me/details for the person's app (scope `details`): the person's own details with
their provenance, and nobody else's."""

from __future__ import annotations

import pytest
from django.test import Client

from apps.people.services import person_set_details
from tests.factories import OrganizationFactory, make_api_key, make_person
from tests.oauth.flow import bearer, register_app, sign_in_and_approve

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(db):
    return register_app()


def test_it_answers_the_persons_own_details_with_provenance(app):
    ana = make_person("ana@example.com", first_name="Ana", last_name="García")
    person_set_details(person=ana, details={"nationality": "ESP"}, source="verified", provider="onfido")
    make_person("eve@example.com", first_name="Eve")
    client = Client(**bearer(sign_in_and_approve(ana, app, "openid details").access_token))

    response = client.get("/api/v1/me/details")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(d["name"], d["value"], d["source"]) for d in results] == [
        ("first_name", "Ana", "self_declared"),
        ("last_name", "García", "self_declared"),
        ("nationality", "ESP", "verified"),
    ]
    assert results[2]["verified_by_provider"] == "onfido"
    assert results[0]["label"] == "First name"


def test_it_needs_the_details_scope(app):
    ana = make_person("ana@example.com", first_name="Ana")
    without = Client(**bearer(sign_in_and_approve(ana, app, "openid inbox sessions").access_token))

    response = without.get("/api/v1/me/details")

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "insufficient_scope"


def test_it_refuses_an_api_key_and_the_browser_session(app):
    ana = make_person("ana@example.com", first_name="Ana")
    browser = Client()
    browser.force_login(ana)

    assert Client(**bearer(make_api_key(OrganizationFactory()))).get("/api/v1/me/details").status_code == 401
    assert browser.get("/api/v1/me/details").status_code == 401
