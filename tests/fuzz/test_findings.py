"""What schemathesis found, pinned as plain tests so that each fix stays in place."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme"


@pytest.fixture(scope="module")
def openapi() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operation(openapi: dict, operation_id: str) -> dict:
    for path_item in openapi["paths"].values():
        for operation in path_item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation
    raise AssertionError(f"no operation {operation_id}")


def _fields(response) -> list[str | None]:
    return [error.get("field") for error in response.json()["errors"]]


@pytest.mark.parametrize("path", ["external-personal-identities", "processes", "activities", "webhooks"])
def test_a_blank_query_parameter_is_refused_not_ignored(api, path):
    response = api.get(f"{BASE}/{path}?cursor=")

    assert response.status_code == 400
    assert _fields(response) == ["cursor"]


def test_a_number_is_not_taken_for_a_text_field(api):
    response = api.post(
        f"{BASE}/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["webhook.ping"], "description": 0}
    )

    assert response.status_code == 400
    assert _fields(response) == ["description"]
    assert response.json()["errors"][0]["code"] == "invalid"


def test_text_fields_still_take_strings(api):
    response = api.post(
        f"{BASE}/webhooks", {"url": "http://127.0.0.1:9/hook", "events": ["webhook.ping"], "description": "CRM"}
    )

    assert response.status_code == 201
    assert response.json()["description"] == "CRM"


def test_the_process_schema_does_not_require_the_fields_a_process_leaves_out(openapi):
    process = openapi["components"]["schemas"]["Process"]

    assert {"processId", "provider", "status", "url", "createdAt", "updatedAt"} <= set(process["required"])
    assert not {"processType", "notificationUrl", "redirectUrl", "finalResult", "failReason", "identityId"} & set(
        process["required"]
    )


@pytest.mark.parametrize("operation_id", ["activities_details", "processes_fullresult"])
def test_state_dependent_reads_document_409(openapi, operation_id):
    assert "409" in _operation(openapi, operation_id)["responses"]


def test_created_objects_link_to_their_operations(openapi):
    links = _operation(openapi, "identities_create")["responses"]["201"]["links"]

    assert links["identities_retrieve"] == {
        "operationId": "identities_retrieve",
        "parameters": {"path.org_id": "$request.path.org_id", "path.identity_id": "$response.body#/id"},
    }
    session_links = _operation(openapi, "sessions_create")["responses"]["201"]["links"]
    assert session_links["sessions_status"]["parameters"]["header.X-Session-Token"] == "$response.body#/session_token"
