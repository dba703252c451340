"""OpenAPI for people's apps: the OAuth 2.0 security scheme, and every /api/v1/me/ and session
person operation naming it with the scope it needs, with their error answers."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db

ERROR_REF = "#/components/schemas/ErrorResponse"


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from django.test import Client

    with django_db_blocker.unblock():
        return json.loads(Client().get("/api/schema/", {"format": "json"}).content)


def test_it_documents_the_oauth2_scheme_with_pkce_and_the_scopes(schema):
    scheme = schema["components"]["securitySchemes"]["PersonAppOAuth"]
    flow = scheme["flows"]["authorizationCode"]

    assert scheme["type"] == "oauth2"
    assert "PKCE with S256" in scheme["description"]
    assert flow["authorizationUrl"].endswith("/oauth/authorize/")
    assert flow["tokenUrl"].endswith("/oauth/token/")
    assert flow["refreshUrl"].endswith("/oauth/token/")
    assert set(flow["scopes"]) == {"openid", "profile", "inbox", "sessions", "details"}
    assert schema["components"]["securitySchemes"]["cookieAuth"]["in"] == "cookie"


EXPECTED = {
    ("/api/v1/me/activities", "get"): "inbox",
    ("/api/v1/me/activities/{activity_id}", "get"): "inbox",
    ("/api/v1/me/activities/{activity_id}/accept", "post"): "inbox",
    ("/api/v1/me/activities/{activity_id}/decline", "post"): "inbox",
    ("/api/v1/me/sharings/{activity_id}/revoke", "post"): "inbox",
    ("/api/v1/me/details", "get"): "details",
}


@pytest.mark.parametrize(("path", "method"), list(EXPECTED), ids=[f"{m} {p}" for p, m in EXPECTED])
def test_every_me_operation_needs_the_apps_token_with_its_scope(schema, path, method):
    operation = schema["paths"][path][method]

    assert operation["security"] == [{"PersonAppOAuth": [EXPECTED[(path, method)]]}]
    for code in ("401", "403", "429"):
        assert operation["responses"][code]["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}
    assert "Retry-After" in operation["responses"]["429"]["headers"]
    if "{" in path:
        assert "404" in operation["responses"]
    assert "Idempotency-Key" not in {p["name"] for p in operation.get("parameters", [])}


def test_the_me_paths_are_all_documented(schema):
    documented = {
        (path, method) for path, item in schema["paths"].items() if path.startswith("/api/v1/me/") for method in item
    }

    assert documented == set(EXPECTED)


@pytest.mark.parametrize("path", ["/api/v1/session/{session_id}/information", "/api/v1/session/{session_id}/update"])
def test_the_session_person_endpoints_take_the_browser_or_the_apps_token(schema, path):
    operation = next(iter(schema["paths"][path].values()))

    assert operation["security"] == [{"cookieAuth": []}, {"PersonAppOAuth": ["sessions"]}]
    assert {"401", "403", "429"} <= set(operation["responses"])
    assert "sessions" in operation["responses"]["403"]["description"]
