"""The served OpenAPI schema (API.md: it "must describe exactly this, every status code included")."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from django.core.management import call_command
from django.urls import Resolver404, resolve
from drf_spectacular.drainage import reset_generator_stats

pytestmark = pytest.mark.django_db

METHODS = {"get", "post", "put", "patch", "delete"}
ORG_PREFIX = "/api/v1/orgs/"
ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict, prefix: str = ORG_PREFIX):
    for path, item in schema["paths"].items():
        if path.startswith(prefix):
            for method, operation in item.items():
                if method in METHODS:
                    yield path, method, operation


def _concrete(path: str) -> str:
    """A documented path with its {parameters} filled in with plausible values."""
    return re.sub(
        r"\{(\w+)\}",
        lambda m: "acme" if m.group(1) == "org_id" else "00000000-0000-4000-8000-000000000000",
        path,
    )


def test_it_generates_a_valid_schema_without_warnings(tmp_path):
    reset_generator_stats()
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    generated = yaml.safe_load(target.read_text())
    assert generated["openapi"].startswith("3.")
    assert any(path.startswith(ORG_PREFIX) for path in generated["paths"])


def test_it_serves_the_schema_without_a_key(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    served = yaml.safe_load(response.content)
    assert "/api/v1/orgs/{org_id}/external-personal-identities" in served["paths"]


def test_it_serves_the_schema_as_json(client):
    response = client.get("/api/schema/", {"format": "json"})

    assert response.status_code == 200
    assert "/api/v1/orgs/{org_id}/external-personal-identities" in json.loads(response.content)["paths"]


def test_it_serves_swagger_ui(client):
    response = client.get("/api/docs/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    content = response.content.decode()
    assert "swagger-ui" in content.lower()
    assert "/api/schema/" in content


def test_it_documents_the_error_shape(schema):
    components = schema["components"]["schemas"]
    errors = components["ErrorResponse"]
    item = components["ErrorItem"]

    assert errors["required"] == ["errors"]
    assert errors["properties"]["errors"]["type"] == "array"
    assert errors["properties"]["errors"]["items"]["$ref"] == "#/components/schemas/ErrorItem"
    assert set(item["properties"]) == {"code", "message", "field"}
    assert sorted(item["required"]) == ["code", "message"]


def test_it_documents_bearer_authentication(schema):
    scheme = schema["components"]["securitySchemes"]["ApiKeyAuth"]

    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    for path, method, operation in _operations(schema):
        assert operation.get("security") == [{"ApiKeyAuth": []}], f"{method.upper()} {path}"


def test_it_documents_401_403_404_429_on_every_org_operation(schema):
    operations = list(_operations(schema))
    assert len(operations) >= 4

    for path, method, operation in operations:
        responses = operation["responses"]
        for code in ("401", "403", "404", "429"):
            assert code in responses, f"{method.upper()} {path} lacks {code}"
            body = responses[code]["content"]["application/json"]["schema"]
            assert body == {"$ref": ERROR_REF}, f"{method.upper()} {path} {code}"
            assert responses[code]["description"]


def test_it_documents_retry_after_on_429(schema):
    for path, method, operation in _operations(schema):
        headers = operation["responses"]["429"].get("headers", {})
        assert "Retry-After" in headers, f"{method.upper()} {path}"


def test_it_documents_400_on_every_org_operation(schema):
    for path, method, operation in _operations(schema):
        assert "400" in operation["responses"], f"{method.upper()} {path}"


def test_it_documents_idempotency_on_every_org_post(schema):
    posts = [(path, operation) for path, method, operation in _operations(schema) if method == "post"]
    assert posts

    for path, operation in posts:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, path
        assert "422" in operation["responses"], path


def test_it_documents_paths_without_a_trailing_slash(schema):
    assert schema["paths"]
    for path in schema["paths"]:
        assert not path.endswith("/"), path


def test_it_serves_every_documented_path_with_and_without_the_slash(schema):
    for path in schema["paths"]:
        concrete = _concrete(path)
        try:
            without = resolve(concrete)
            with_slash = resolve(concrete + "/")
        except Resolver404 as exc:
            pytest.fail(f"{path} is documented but {exc} does not resolve")
        assert without.func.__name__ == with_slash.func.__name__, path


def test_it_documents_lists_as_pages(schema):
    listing = schema["paths"]["/api/v1/orgs/{org_id}/external-personal-identities"]["get"]
    ref = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]

    assert {"results", "next", "previous"} <= set(page["properties"])
    assert page["properties"]["results"]["type"] == "array"


def test_it_documents_no_bare_array_responses(schema):
    """Lists are paginated objects, never a bare JSON array."""
    for path, method, operation in _operations(schema, prefix="/api/"):
        for code, response in operation["responses"].items():
            body = response.get("content", {}).get("application/json", {}).get("schema", {})
            assert body.get("type") != "array", f"{method.upper()} {path} {code}"


def test_it_keeps_developer_notes_out_of_descriptions(schema):
    for path, method, operation in _operations(schema, prefix="/api/"):
        description = operation.get("description", "")
        assert "required_scope" not in description, f"{method.upper()} {path}"
        assert "Subclasses" not in description, f"{method.upper()} {path}"


def test_it_gives_every_operation_a_unique_id(schema):
    ids = [operation["operationId"] for _, _, operation in _operations(schema, prefix="/")]

    assert len(ids) == len(set(ids))


def test_it_names_org_id_as_a_path_parameter(schema):
    for path, method, operation in _operations(schema):
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
        assert "org_id" in names, f"{method.upper()} {path}"


def test_it_documents_the_iso_duration_form_on_every_duration_field(schema):
    """API.md "Conventions": weeks to seconds, a fraction on the last part, no years or months."""
    from apps.api.durations import PATTERN, parse_duration

    found = {}
    for name, component in schema["components"]["schemas"].items():
        for prop, spec in component.get("properties", {}).items():
            if prop in ("valid_for", "sharing_period", "expires_in") or spec.get("pattern") == PATTERN:
                found[f"{name}.{prop}"] = spec
    assert {"ActivityCreateRequest.valid_for", "SessionCreateRequest.expires_in"} <= set(found)
    assert "IdentificationCreateRequest.expires_in" in found
    for text in ("P4W", "PT0.5H", "PT0,5H", "P1DT2H"):
        assert re.fullmatch(PATTERN.strip("^$"), text), text
    for text in ("P1Y", "P1M", "-P1D", "P1D1W"):
        assert not re.fullmatch(PATTERN.strip("^$"), text), text
    for where, spec in found.items():
        assert spec["pattern"] == PATTERN, where
        assert "weeks" in spec["description"] and "calendar" in spec["description"], where
        assert "decimal fraction" in spec["description"], where
        parse_duration(spec["example"])


def test_it_documents_the_seed_decision_path_like_the_organization_path(schema):
    """Seed 004's `GET /api/v1/session/{session_id}/decision`: API key, same answers."""
    seed = schema["paths"]["/api/v1/session/{session_id}/decision"]["get"]
    org = schema["paths"]["/api/v1/orgs/{org_id}/sessions/{session_id}/decision"]["get"]

    assert seed["security"] == [{"ApiKeyAuth": []}]
    assert set(seed["responses"]) == set(org["responses"]) >= {"200", "401", "403", "404", "409", "410", "429"}
    assert seed["responses"]["200"]["content"] == org["responses"]["200"]["content"]
    assert [p["name"] for p in seed["parameters"] if p["in"] == "path"] == ["session_id"]
    assert "X-Session-Token" not in {p["name"] for p in seed.get("parameters", [])}


def test_it_documents_that_a_confirmation_needs_an_accepted_scope(schema):
    update = schema["paths"]["/api/v1/session/{session_id}/update"]["post"]

    assert "400" in update["responses"]
    assert "at least one" in update["description"]
    assert "400" in update["description"]


def test_it_documents_the_otp_identification_list(schema):
    listing = schema["paths"]["/api/v1/orgs/{org_id}/identifications/otp"]["get"]
    params = {p["name"]: p for p in listing["parameters"] if p["in"] == "query"}

    assert listing["operationId"] == "identifications_otp_list"
    assert set(params) == {"status", "created_after", "created_before", "cursor", "page_size"}
    assert params["created_after"]["schema"]["format"] == "date-time"
    assert params["created_before"]["schema"]["format"] == "date-time"
    assert "EXPIRED" in params["status"]["schema"]["enum"]
    ref = listing["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    page = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert {"results", "next", "previous"} <= set(page["properties"])
    item = schema["paths"]["/api/v1/orgs/{org_id}/identifications/otp/{admin_identification_id}"]["get"]
    assert page["properties"]["results"]["items"] == item["responses"]["200"]["content"]["application/json"]["schema"]
    assert {"400", "401", "403", "404", "429"} <= set(listing["responses"])


def _operation(schema: dict, operation_id: str, prefix: str = ORG_PREFIX) -> dict:
    for _path, _method, operation in _operations(schema, prefix):
        if operation.get("operationId") == operation_id:
            return operation
    raise AssertionError(f"no operation {operation_id}")


def test_it_documents_the_not_managed_refusal_of_a_share(schema):
    created = _operation(schema, "activities_create")["responses"]["403"]
    listed = _operation(schema, "activities_list")["responses"]["403"]

    assert "`not_managed`" in created["description"] and "AT_002" in created["description"]
    assert "not_managed" not in listed["description"]  # a list creates nothing


@pytest.mark.parametrize(
    "operation_id",
    [
        "identifications_otp_create",
        "identifications_otp_resend",
        "identities_create",
        "identities_update",
        "identities_resend_invitation",
    ],
)
def test_it_documents_the_message_limits(schema, operation_id):
    refused = _operation(schema, operation_id)["responses"]["429"]

    assert "`too_many_messages`" in refused["description"]
    assert "5 an hour and 20 a day" in refused["description"]
    assert "Retry-After" in refused["headers"]
    assert refused["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}


def test_it_documents_the_body_limits_on_every_operation_with_a_body(schema):
    for path, method, operation in _operations(schema, "/api/v1/"):
        if method in ("post", "put", "patch"):
            for code in ("411", "413"):
                assert code in operation["responses"], f"{method.upper()} {path} lacks {code}"


def _component(schema: dict, ref_holder: dict) -> dict:
    return schema["components"]["schemas"][ref_holder["$ref"].rsplit("/", 1)[1]]


def test_it_documents_redaction_and_the_raw_result(schema):
    """Issue 16's fields: `redactionRequested` on Get process, `rawResult` in a provider's callback."""
    retrieve = _operation(schema, "processes_retrieve")
    process = _component(schema, retrieve["responses"]["200"]["content"]["application/json"]["schema"])
    assert process["properties"]["redactionRequested"]["type"] == "boolean"
    assert "redactionRequested" in process["required"]
    assert "redacted" in process["properties"]["redactionRequested"]["description"]
    callback = _operation(schema, "providers_callback", "/api/v1/providers/")
    body = _component(schema, callback["requestBody"]["content"]["application/json"]["schema"])
    assert "rawResult" in body["properties"] and "rawResult" not in body.get("required", [])
    assert "provider-result.json" in body["properties"]["rawResult"]["description"]
    fullresult = _operation(schema, "processes_fullresult")
    assert "410" in fullresult["responses"]
