"""The integrator API for webhook endpoints (API.md "Webhooks") and its OpenAPI description."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from drf_spectacular.drainage import reset_generator_stats
from standardwebhooks.webhooks import WebhookVerificationError

from apps.organizations.models import Scope
from apps.webhooks.models import Delivery, WebhookEndpoint
from tests.factories import make_api_key, make_identity
from tests.webhooks.conftest import Reply

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme/webhooks"
FIELDS = {"id", "url", "events", "description", "created_at"}


@pytest.fixture
def scopeless_api(org, make_client):
    """The owner's organization, but a key without the webhooks scope."""
    return make_client(make_api_key(org, scopes=[Scope.IDENTITIES]))


@pytest.fixture
def registered(api, receiver):
    """An endpoint registered through the API for pings and identity events: (id, secret)."""
    response = api.post(
        BASE,
        {"url": receiver.url(), "events": ["webhook.ping", "identity.state_changed"], "description": "CRM sync"},
        format="json",
    )
    assert response.status_code == 201
    return response.json()["id"], response.json()["secret"]


def _fields(response) -> list[str | None]:
    return [item.get("field") for item in response.json()["errors"]]


def _signatures(request) -> list[str]:
    return request.headers["webhook-signature"].split(" ")


# --- Register, list, show, delete ------------------------------------------------------


def test_it_registers_an_endpoint_and_shows_the_secret_once(api, org, receiver):
    response = api.post(
        BASE, {"url": receiver.url(), "events": ["identity.state_changed"], "description": "CRM"}, format="json"
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == FIELDS | {"secret"}
    assert body["secret"].startswith("whsec_")
    assert len(base64.b64decode(body["secret"].removeprefix("whsec_"))) >= 24
    assert (body["url"], body["events"], body["description"]) == (receiver.url(), ["identity.state_changed"], "CRM")
    endpoint = WebhookEndpoint.objects.get(pk=body["id"])
    assert endpoint.organization == org

    shown = api.get(f"{BASE}/{body['id']}")
    listed = api.get(BASE)
    assert shown.status_code == listed.status_code == 200
    assert set(shown.json()) == FIELDS
    assert [set(item) for item in listed.json()["results"]] == [FIELDS]
    assert body["secret"] not in shown.content.decode() + listed.content.decode()


def test_it_stores_the_secret_encrypted(api, receiver):
    response = api.post(BASE, {"url": receiver.url(), "events": ["webhook.ping"]}, format="json")
    secret = response.json()["secret"]

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_webhookendpoint")
        (raw,) = cursor.fetchone()
    assert secret.removeprefix("whsec_") not in raw


def test_it_gives_each_endpoint_its_own_secret(api, receiver):
    secrets = {
        api.post(BASE, {"url": receiver.url(), "events": ["webhook.ping"]}, format="json").json()["secret"]
        for _ in range(2)
    }

    assert len(secrets) == 2


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"events": ["identity.created"]}, "events"),
        ({"events": ["identity.state_changed", "nope"]}, "events"),
        ({"events": []}, "events"),
        ({"events": "identity.state_changed"}, "events"),
        ({"events": None}, "events"),
        ({"url": "ftp://example.com/hook"}, "url"),
        ({"url": "file:///etc/passwd"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": ""}, "url"),
        ({"description": "x" * 501}, "description"),
        ({"secret": "whsec_mine"}, "secret"),
        ({"id": str(uuid.uuid4())}, "id"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_it_rejects_invalid_input(api, receiver, payload, field):
    body = {"url": receiver.url(), "events": ["identity.state_changed"], **payload}

    response = api.post(BASE, body, format="json")

    assert response.status_code == 400
    assert any(f == field or (f or "").startswith(f"{field}[") for f in _fields(response)), response.json()
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("missing", ["url", "events"])
def test_it_requires_url_and_events(api, receiver, missing):
    body = {"url": receiver.url(), "events": ["identity.state_changed"]}
    del body[missing]

    response = api.post(BASE, body, format="json")

    assert response.status_code == 400
    assert _fields(response) == [missing]


def test_it_accepts_every_event_type(api, receiver):
    events = [
        "identity.state_changed",
        "activity.status_changed",
        "process.status_changed",
        "identification.status_changed",
        "session.status_changed",
        "webhook.ping",
    ]

    response = api.post(BASE, {"url": receiver.url(), "events": events}, format="json")

    assert response.status_code == 201
    assert response.json()["events"] == events


def test_it_lists_only_the_organizations_endpoints(api, outsider_api, receiver):
    mine = api.post(BASE, {"url": receiver.url(), "events": ["webhook.ping"]}, format="json").json()["id"]
    outsider_api.post(
        "/api/v1/orgs/globex/webhooks", {"url": receiver.url(), "events": ["webhook.ping"]}, format="json"
    )

    response = api.get(BASE)

    assert response.status_code == 200
    assert set(response.json()) == {"results", "next", "previous"}
    assert [item["id"] for item in response.json()["results"]] == [mine]


def test_it_deletes_an_endpoint(api, registered, org, receiver, django_capture_on_commit_callbacks):
    webhook_id, _ = registered

    response = api.delete(f"{BASE}/{webhook_id}")

    assert response.status_code == 204
    assert api.get(f"{BASE}/{webhook_id}").status_code == 404
    assert api.delete(f"{BASE}/{webhook_id}").status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        make_identity(org)
    assert receiver.requests == []  # a deleted endpoint gets nothing


def test_it_answers_404_for_an_unknown_endpoint(api):
    unknown = uuid.uuid4()

    assert api.get(f"{BASE}/{unknown}").status_code == 404
    assert api.post(f"{BASE}/{unknown}/ping").status_code == 404
    assert api.get(f"{BASE}/{unknown}/deliveries").status_code == 404


# --- Personas ----------------------------------------------------------------------------


def _operations(webhook_id: str, delivery_id: str) -> list[tuple[str, str, dict | None]]:
    one = f"{BASE}/{webhook_id}"
    return [
        ("get", BASE, None),
        ("post", BASE, {"url": "http://127.0.0.1:9/hook", "events": ["webhook.ping"]}),
        ("get", one, None),
        ("delete", one, None),
        ("post", f"{one}/rotate-secret", None),
        ("post", f"{one}/ping", None),
        ("get", f"{one}/deliveries", None),
        ("post", f"{one}/deliveries/{delivery_id}/redeliver", None),
    ]


@pytest.fixture
def pinged(api, registered, django_capture_on_commit_callbacks) -> tuple[str, str]:
    webhook_id, _ = registered
    with django_capture_on_commit_callbacks(execute=True):
        delivery_id = api.post(f"{BASE}/{webhook_id}/ping").json()["id"]
    return webhook_id, delivery_id


def test_it_answers_404_to_another_organizations_key(outsider_api, pinged, receiver):
    webhook_id, delivery_id = pinged
    secret_before = WebhookEndpoint.objects.get(pk=webhook_id).secret

    for method, path, body in _operations(webhook_id, delivery_id):
        response = getattr(outsider_api, method)(path, body, format="json")
        assert response.status_code == 404, (method, path)
        assert "errors" in response.json()

    endpoint = WebhookEndpoint.objects.get(pk=webhook_id)  # not deleted
    assert endpoint.secret == secret_before  # not rotated
    assert Delivery.objects.count() == 1  # no ping, no redelivery
    assert WebhookEndpoint.objects.count() == 1


def test_it_answers_404_to_another_organizations_endpoint_under_our_path(api, outsider_api, receiver):
    theirs = outsider_api.post(
        "/api/v1/orgs/globex/webhooks", {"url": receiver.url(), "events": ["webhook.ping"]}, format="json"
    ).json()["id"]

    assert api.get(f"{BASE}/{theirs}").status_code == 404
    assert api.post(f"{BASE}/{theirs}/rotate-secret").status_code == 404
    assert api.delete(f"{BASE}/{theirs}").status_code == 404
    assert WebhookEndpoint.objects.filter(pk=theirs).exists()


def test_it_answers_403_without_the_webhooks_scope(scopeless_api, pinged):
    webhook_id, delivery_id = pinged

    for method, path, body in _operations(webhook_id, delivery_id):
        response = getattr(scopeless_api, method)(path, body, format="json")
        assert response.status_code == 403, (method, path)

    assert WebhookEndpoint.objects.count() == 1
    assert Delivery.objects.count() == 1


def test_it_answers_401_without_a_key(make_client, pinged):
    webhook_id, delivery_id = pinged

    for method, path, body in _operations(webhook_id, delivery_id):
        response = getattr(make_client(None), method)(path, body, format="json")
        assert response.status_code == 401, (method, path)


def test_it_accepts_a_key_with_only_the_webhooks_scope(org, make_client, receiver):
    client = make_client(make_api_key(org, scopes=[Scope.WEBHOOKS]))

    response = client.post(BASE, {"url": receiver.url(), "events": ["webhook.ping"]}, format="json")

    assert response.status_code == 201


# --- Secret rotation --------------------------------------------------------------------


def test_it_signs_with_both_secrets_during_a_rotation(api, registered, receiver, django_capture_on_commit_callbacks):
    webhook_id, old = registered
    start = datetime.now(tz=UTC)

    with time_machine.travel(start, tick=False) as traveller:
        response = api.post(f"{BASE}/{webhook_id}/rotate-secret")

        assert response.status_code == 200
        new = response.json()["secret"]
        assert new.startswith("whsec_") and new != old
        assert set(response.json()) == FIELDS | {"secret"}
        assert new not in api.get(f"{BASE}/{webhook_id}").content.decode()

        traveller.shift(timedelta(hours=23))
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"{BASE}/{webhook_id}/ping")
        during = receiver.requests[-1]
        assert len(_signatures(during)) == 2
        assert all(s.startswith("v1,") for s in _signatures(during))
        assert during.verify(old)["type"] == "webhook.ping"
        assert during.verify(new)["type"] == "webhook.ping"

        traveller.shift(timedelta(hours=1, seconds=1))
        with django_capture_on_commit_callbacks(execute=True):
            api.post(f"{BASE}/{webhook_id}/ping")
        after = receiver.requests[-1]
        assert len(_signatures(after)) == 1
        assert after.verify(new)["type"] == "webhook.ping"
        with pytest.raises(WebhookVerificationError):
            after.verify(old)

    assert len(receiver.requests) == 2


def test_it_signs_a_retry_with_the_secrets_current_at_the_retry(
    api, registered, receiver, django_capture_on_commit_callbacks
):
    """A retry after the rotation carries the new signature: integrators can drop the old secret."""
    webhook_id, old = registered
    receiver.script(500)
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{BASE}/{webhook_id}/ping")
    new = api.post(f"{BASE}/{webhook_id}/rotate-secret").json()["secret"]

    (first, second) = receiver.requests
    assert len(_signatures(first)) == 1
    first.verify(old)
    with pytest.raises(WebhookVerificationError):
        first.verify(new)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]


# --- Ping, deliveries, redeliver ---------------------------------------------------------


def test_it_pings(api, registered, receiver, django_capture_on_commit_callbacks):
    webhook_id, secret = registered

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}/{webhook_id}/ping")

    assert response.status_code == 202
    body = response.json()
    assert body["event_type"] == "webhook.ping"
    (request,) = receiver.requests
    payload = request.verify(secret)
    assert payload["type"] == "webhook.ping"
    assert payload["data"]["endpoint_id"] == webhook_id
    assert request.headers["webhook-id"] == body["event_id"] == payload["id"]


def test_it_pings_even_an_endpoint_not_subscribed_to_pings(api, receiver, django_capture_on_commit_callbacks):
    webhook_id = api.post(BASE, {"url": receiver.url(), "events": ["identity.state_changed"]}, format="json").json()[
        "id"
    ]

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}/{webhook_id}/ping")

    assert response.status_code == 202
    assert receiver.requests[0].json["type"] == "webhook.ping"


def test_it_lists_deliveries_with_their_attempts(api, registered, receiver, django_capture_on_commit_callbacks):
    webhook_id, _ = registered
    receiver.script(Reply(500, b"try later"), Reply(200, b"thanks"))
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{BASE}/{webhook_id}/ping")

    response = api.get(f"{BASE}/{webhook_id}/deliveries")

    assert response.status_code == 200
    (delivery,) = response.json()["results"]
    assert delivery["status"] == "succeeded"
    assert delivery["event_type"] == "webhook.ping"
    assert delivery["event_id"] == receiver.requests[0].headers["webhook-id"]
    assert delivery["attempt_count"] == 2
    assert delivery["url"] == receiver.url()
    attempts = delivery["attempts"]
    assert [(a["number"], a["status_code"], a["response_excerpt"]) for a in attempts] == [
        (1, 500, "try later"),
        (2, 200, "thanks"),
    ]
    assert all(a["duration_ms"] >= 0 and a["started_at"] for a in attempts)
    assert api.get(f"{BASE}/{webhook_id}/deliveries", {"status": "dead"}).json()["results"] == []
    assert len(api.get(f"{BASE}/{webhook_id}/deliveries", {"status": "succeeded"}).json()["results"]) == 1
    assert api.get(f"{BASE}/{webhook_id}/deliveries", {"status": "lost"}).status_code == 400


def test_it_lists_a_dead_delivery_with_the_last_error(api, receiver, closed_url, django_capture_on_commit_callbacks):
    webhook_id = api.post(BASE, {"url": closed_url, "events": ["webhook.ping"]}, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{BASE}/{webhook_id}/ping")

    (delivery,) = api.get(f"{BASE}/{webhook_id}/deliveries").json()["results"]

    assert delivery["status"] == "pending"
    assert delivery["next_attempt_at"]
    assert "refused" in delivery["last_error"].lower()
    assert [a["status_code"] for a in delivery["attempts"]] == [None, None]


def test_it_lists_only_the_endpoints_own_deliveries(api, registered, receiver, django_capture_on_commit_callbacks):
    webhook_id, _ = registered
    other = api.post(BASE, {"url": receiver.url(), "events": ["webhook.ping"]}, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"{BASE}/{webhook_id}/ping")
        api.post(f"{BASE}/{other}/ping")

    mine = api.get(f"{BASE}/{webhook_id}/deliveries").json()["results"]

    assert len(mine) == 1
    assert Delivery.objects.get(pk=mine[0]["id"]).endpoint_id == uuid.UUID(webhook_id)


def test_it_redelivers_with_the_same_webhook_id(api, registered, receiver, django_capture_on_commit_callbacks):
    webhook_id, secret = registered
    with django_capture_on_commit_callbacks(execute=True):
        original = api.post(f"{BASE}/{webhook_id}/ping").json()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}/{webhook_id}/deliveries/{original['id']}/redeliver")

    assert response.status_code == 202
    again = response.json()
    assert again["id"] != original["id"]
    assert again["event_id"] == original["event_id"]
    first, second = receiver.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == original["event_id"]
    assert first.verify(secret) == second.verify(secret)
    listed = api.get(f"{BASE}/{webhook_id}/deliveries").json()["results"]
    assert {d["status"] for d in listed} == {"succeeded"}
    assert len(listed) == 2


def test_it_redelivers_a_dead_delivery(api, registered, receiver, django_capture_on_commit_callbacks):
    webhook_id, _ = registered
    receiver.script(410)
    with django_capture_on_commit_callbacks(execute=True):
        original = api.post(f"{BASE}/{webhook_id}/ping").json()
    assert api.get(f"{BASE}/{webhook_id}/deliveries").json()["results"][0]["status"] == "dead"

    with django_capture_on_commit_callbacks(execute=True):
        again = api.post(f"{BASE}/{webhook_id}/deliveries/{original['id']}/redeliver").json()

    assert Delivery.objects.get(pk=again["id"]).status == "succeeded"
    assert Delivery.objects.get(pk=original["id"]).status == "dead"


def test_it_answers_404_when_redelivering_another_endpoints_delivery(
    api, registered, receiver, django_capture_on_commit_callbacks
):
    webhook_id, _ = registered
    other = api.post(BASE, {"url": receiver.url(), "events": ["webhook.ping"]}, format="json").json()["id"]
    with django_capture_on_commit_callbacks(execute=True):
        theirs = api.post(f"{BASE}/{other}/ping").json()["id"]

    assert api.post(f"{BASE}/{webhook_id}/deliveries/{theirs}/redeliver").status_code == 404
    assert api.post(f"{BASE}/{webhook_id}/deliveries/{uuid.uuid4()}/redeliver").status_code == 404
    assert Delivery.objects.count() == 1


def test_it_replays_a_registration_with_the_same_idempotency_key(api, receiver):
    body = {"url": receiver.url(), "events": ["webhook.ping"]}

    first = api.post(BASE, body, format="json", HTTP_IDEMPOTENCY_KEY="register-1")
    second = api.post(BASE, body, format="json", HTTP_IDEMPOTENCY_KEY="register-1")

    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert WebhookEndpoint.objects.count() == 1


# --- OpenAPI ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def test_it_publishes_the_event_payload_schemas(schema):
    components = schema["components"]["schemas"]
    event = components["EventIdentityStateChanged"]

    assert set(event["required"]) == {"id", "type", "created_at", "data"}
    assert event["properties"]["type"]["enum"] == ["identity.state_changed"]
    data = event["properties"]["data"]
    assert set(data["required"]) == {"id", "state", "previous_state", "managed"}
    assert data["properties"]["state"]["enum"] == ["INVITED", "ACTIVE", "DEACTIVATED"]
    assert "EventWebhookPing" in components


def test_it_documents_every_webhook_operation(schema):
    paths = schema["paths"]
    one = "/api/v1/orgs/{org_id}/webhooks/{webhook_id}"

    assert {"get", "post"} <= set(paths["/api/v1/orgs/{org_id}/webhooks"])
    for path, code in (("/api/v1/orgs/{org_id}/webhooks", "201"), (f"{one}/rotate-secret", "200")):
        ref = paths[path]["post"]["responses"][code]["content"]["application/json"]["schema"]["$ref"]
        assert "secret" in schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"], path
    shown = paths[one]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert "secret" not in schema["components"]["schemas"][shown.rsplit("/", 1)[1]]["properties"]
    assert {"get", "delete"} <= set(paths[one])
    assert "202" in paths[f"{one}/ping"]["post"]["responses"]
    assert "202" in paths[f"{one}/deliveries/{{delivery_id}}/redeliver"]["post"]["responses"]
    assert "get" in paths[f"{one}/deliveries"]


def test_it_keeps_the_schema_valid_without_warnings(tmp_path):
    reset_generator_stats()
    target = tmp_path / "schema.json"

    call_command("spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json", "--file", str(target))

    assert "EventIdentityStateChanged" in json.loads(target.read_text())["components"]["schemas"]
