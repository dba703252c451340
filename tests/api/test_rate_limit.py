"""API_RATE_LIMIT requests per key (API.md "Conventions"): 429 with Retry-After past it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings

from apps.identities.models import ExternalPersonalIdentity
from tests.factories import make_api_key

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme/external-personal-identities"
START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


def _spend(client, count: int, url: str = BASE) -> list[int]:
    return [client.get(url).status_code for _ in range(count)]


@override_settings(API_RATE_LIMIT="3/min")
def test_it_answers_429_past_the_limit(api, org):
    with time_machine.travel(START, tick=False):
        assert _spend(api, 3) == [200, 200, 200]

        response = api.get(BASE)

    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/json")
    errors = response.json()["errors"]
    assert [e["code"] for e in errors] == ["throttled"]
    assert errors[0]["message"]
    assert response["Retry-After"] == "60"


@override_settings(API_RATE_LIMIT="3/min")
def test_it_tells_how_long_to_wait(api, org):
    with time_machine.travel(START, tick=False):
        _spend(api, 3)
    with time_machine.travel(START + timedelta(seconds=45), tick=False):
        response = api.get(BASE)

    assert response.status_code == 429
    assert response["Retry-After"] == "15"


@override_settings(API_RATE_LIMIT="3/min")
def test_it_never_says_retry_after_zero_while_still_limited(api, org):
    with time_machine.travel(START, tick=False):
        _spend(api, 3)
    with time_machine.travel(START + timedelta(seconds=59.5), tick=False):
        response = api.get(BASE)

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


@override_settings(API_RATE_LIMIT="3/min")
def test_it_lets_requests_through_again_after_the_window(api, org):
    with time_machine.travel(START, tick=False):
        _spend(api, 4)
    with time_machine.travel(START + timedelta(seconds=61), tick=False):
        assert api.get(BASE).status_code == 200


@override_settings(API_RATE_LIMIT="3/min")
def test_it_counts_per_key(api, org, make_client):
    other_key_client = make_client(make_api_key(org))
    with time_machine.travel(START, tick=False):
        _spend(api, 3)
        assert api.get(BASE).status_code == 429

        assert _spend(other_key_client, 3) == [200, 200, 200]
        assert other_key_client.get(BASE).status_code == 429


@override_settings(API_RATE_LIMIT="3/min")
def test_it_does_not_let_the_outsider_spend_the_owners_budget(api, org, other_org, outsider_api):
    with time_machine.travel(START, tick=False):
        assert _spend(outsider_api, 3, "/api/v1/orgs/globex/external-personal-identities") == [200, 200, 200]

        assert _spend(api, 3) == [200, 200, 200]


@override_settings(API_RATE_LIMIT="3/min")
def test_it_counts_every_endpoint_and_method_against_one_budget(api, org):
    payload = {"emailAddress": "ana@example.com", "firstName": "Ana", "lastName": "García", "managed": True}
    with time_machine.travel(START, tick=False):
        api.get(BASE)
        api.post(BASE, payload, format="json")
        api.get(f"{BASE}/{ExternalPersonalIdentity.objects.get().pk}")

        response = api.post(BASE, {**payload, "emailAddress": "bo@example.com"}, format="json")

    assert response.status_code == 429
    assert ExternalPersonalIdentity.objects.count() == 1


@override_settings(API_RATE_LIMIT="5/min")
def test_it_reads_the_limit_at_request_time(api, org):
    with time_machine.travel(START, tick=False):
        assert _spend(api, 5) == [200] * 5
        assert api.get(BASE).status_code == 429

        with override_settings(API_RATE_LIMIT="10/min"):
            assert api.get(BASE).status_code == 200
