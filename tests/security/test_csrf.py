"""CSRF on every page: each non-API route found in the URL configuration refuses a POST without a token.

The CSRF middleware runs before the view, so any page route (with made-up ids) must answer
403 "CSRF verification failed" to a token-less POST, signed in or not; and no page view may be
csrf_exempt. The API is exempt by design (Bearer keys, no cookies), except the person-facing
session routes, which use the Django session and so must enforce CSRF themselves.
"""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import URLResolver, get_resolver

from tests.factories import make_person

# Prefixes that are not the portal's own pages: the API (keys, not cookies), static files, and the
# OAuth endpoints people's apps call (RFC 6749/7009: the client id in the body, or the app's bearer
# token; no cookie). The approval page, /oauth/authorize/, is a page and stays in.
# The demo's webhook receiver is a machine endpoint too (signed by Standard Webhooks, no cookie;
# served only under `make run`).
NOT_PAGES = ("api/", "static/", "oauth/token/", "oauth/revoke_token/", "oauth/userinfo/", "demo/webhooks/")
VALUES = {"uuid": str(uuid.UUID(int=1)), "str": "token", "slug": "acme", "int": "1", "path": "x"}


def _walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        else:
            yield route, entry


def _concrete(route: str) -> str | None:
    """A path for `route` with made-up values; None for regex routes (the admin's), tested apart."""
    if route.startswith("^") or "(?P" in route:
        return None
    return "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda m: VALUES[m[1] or "str"], route)


PAGES = sorted(
    {
        path: pattern
        for route, pattern in _walk(get_resolver().url_patterns)
        if not route.startswith(NOT_PAGES) and (path := _concrete(route)) is not None
    }.items()
)


def test_page_routes_are_found():
    paths = [p for p, _ in PAGES]
    for expected in ("/accounts/login/", "/me/", f"/session/{VALUES['uuid']}", f"/verify/{VALUES['uuid']}/token/"):
        assert expected in paths, paths


@pytest.mark.parametrize(("path", "pattern"), PAGES, ids=[p for p, _ in PAGES])
def test_no_page_view_is_csrf_exempt(path, pattern):
    assert not getattr(pattern.callback, "csrf_exempt", False), f"{path} is csrf_exempt"


@pytest.mark.parametrize("signed_in", [False, True], ids=["signed-out", "signed-in"])
@pytest.mark.parametrize("path", [p for p, _ in PAGES] + ["/admin/login/", "/admin/logout/"])
def test_a_post_without_a_token_is_refused(db, path, signed_in):
    client = Client(enforce_csrf_checks=True)
    if signed_in:
        client.force_login(make_person())
    response = client.post(path, {"email": "x@example.com", "password": "x", "decision": "confirmed"})
    assert response.status_code == 403, (path, response.status_code)
    assert b"CSRF" in response.content


def test_a_post_with_the_token_passes_the_check(db):
    """Control: the same client with the form's token gets past the middleware."""
    make_person("ana@example.com", password="correct-horse-9")
    client = Client(enforce_csrf_checks=True)
    client.get("/accounts/login/")
    token = client.cookies["csrftoken"].value
    response = client.post(
        "/accounts/login/", {"username": "ana@example.com", "password": "correct-horse-9", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302


def test_the_person_session_api_enforces_csrf(db, api):
    """The phone's consent API authenticates with the Django session, so it must check CSRF."""
    created = api.post("/api/v1/orgs/acme/sessions", {"scopes": ["first_name"]}, format="json").json()
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_person("ana@example.com", first_name="Ana"))
    assert client.get(f"/api/v1/session/{created['session_id']}/information").status_code == 200
    response = client.post(
        f"/api/v1/session/{created['session_id']}/update",
        {"decision": "confirmed", "accepted_scopes": ["first_name"]},
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["errors"][0]["message"]
