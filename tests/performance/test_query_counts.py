"""Integrator reads: the number of queries does not grow with the page size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.audit.services import Actor
from apps.verifications.services import process_create
from tests.activities.conftest import INITIATOR_DETAILS, RECEPTOR_DETAILS, make_party

pytestmark = pytest.mark.django_db

ACTIVITIES = "/api/v1/orgs/acme/activities"
PROCESSES = "/api/v1/orgs/acme/processes"
REQUIREMENTS = [{"detail": "first_name", "required": True}, {"detail": "email", "required": False}]


@pytest.fixture
def activities(org, api):
    initiator = make_party(org, "ana@example.com", **INITIATOR_DETAILS)
    receptor = make_party(org, "eva@example.com", **RECEPTOR_DETAILS)
    body = {
        "type": "AT_001",
        "initiator_id": str(initiator.pk),
        "receptor_id": str(receptor.pk),
        "requirements": REQUIREMENTS,
        "purpose": "Open an account",
    }
    return [api.post(ACTIVITIES, body, format="json").json()["id"] for _ in range(101)]


@pytest.fixture
def processes(org):
    return [
        str(
            process_create(
                organization=org, provider="onfido", process_type="documentSelfie", actor=Actor.system("t")
            ).pk
        )
        for _ in range(101)
    ]


def _queries(api, url: str, **params) -> tuple[int, dict]:
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, params)
    assert response.status_code == 200, response.content
    return len(queries), response.json()


@pytest.mark.parametrize("url", [ACTIVITIES, PROCESSES])
def test_a_page_of_100_costs_the_queries_of_a_page_of_1(api, activities, processes, url, django_assert_max_num_queries):
    one, small = _queries(api, url, page_size=1)
    assert len(small["data"] if "data" in small else small["results"]) == 1
    with django_assert_max_num_queries(one):
        response = api.get(url, {"page_size": 100})
    body = response.json()
    assert len(body["data"] if "data" in body else body["results"]) == 100


def test_reading_one_activity_or_process_takes_a_few_queries(api, activities, processes, django_assert_max_num_queries):
    # Authentication (key lookup), organization, the object with its parties: a handful, whatever the data.
    with django_assert_max_num_queries(6):
        assert api.get(f"{ACTIVITIES}/{activities[0]}").status_code == 200
    with django_assert_max_num_queries(6):
        assert api.get(f"{PROCESSES}/{processes[0]}").status_code == 200
