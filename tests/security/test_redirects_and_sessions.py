"""Session fixation and open redirects.

- Signing in gives a new session key: a key planted before sign-in is dead afterwards.
- `next=` on the login and logout pages only goes to this site; anything else lands on /me/
  (or the login page after logout).
- A verification process's `redirectUrl` is set by the organization with its API key and must
  be an absolute http(s) URL; the hosted page redirects only there (with processId and status
  added), never to a URL taken from the request.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from apps.verifications.links import process_url
from apps.verifications.models import VerificationProcess
from tests.factories import make_person

EMAIL, PASSWORD = "ana@example.com", "correct-horse-9"
EXTERNAL = [
    "https://evil.example.com/",
    "//evil.example.com/",
    "///evil.example.com/",
    "https:evil.example.com",
    "/\\evil.example.com",
    "\\\\evil.example.com",
    "http://testserver@evil.example.com/",
    "javascript:alert(1)",
    " https://evil.example.com",
]


@pytest.fixture
def person(db):
    return make_person(EMAIL, password=PASSWORD)


def sign_in(client: Client, **extra: str):
    return client.post("/accounts/login/", {"username": EMAIL, "password": PASSWORD, **extra})


# --- Session fixation -----------------------------------------------------------------------


def test_signing_in_replaces_a_planted_session_key(client, person):
    planted = SessionStore()
    planted["planted"] = True
    planted.create()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key

    response = sign_in(client)

    assert response.status_code == 302
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key != planted.session_key
    assert not SessionStore().exists(planted.session_key)
    # The planted key does not carry the sign-in: with it, /me/ still asks to sign in.
    attacker = Client()
    attacker.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert attacker.get("/me/").status_code == 302
    assert client.get("/me/").status_code == 200


def test_signing_out_ends_the_session(client, person):
    sign_in(client)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.post("/accounts/logout/")
    assert not SessionStore().exists(key)
    assert client.get("/me/").status_code == 302


def test_session_cookie_is_http_only(client, person):
    sign_in(client)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"


# --- next= ------------------------------------------------------------------------------------


@pytest.mark.parametrize("target", EXTERNAL)
def test_login_next_to_another_site_lands_on_me(client, person, target):
    response = sign_in(client, next=target)
    assert response.status_code == 302
    assert response["Location"] == "/me/"


@pytest.mark.parametrize("target", EXTERNAL)
def test_login_page_next_when_already_signed_in(client, person, target):
    sign_in(client)
    response = client.get("/accounts/login/", {"next": target})
    assert response.status_code == 302
    assert response["Location"] == "/me/"


def test_login_next_within_the_site_is_kept(client, person):
    response = sign_in(client, next="/me/receipts/")
    assert response["Location"] == "/me/receipts/"


@pytest.mark.parametrize("target", EXTERNAL)
def test_logout_next_to_another_site_is_ignored(client, person, target):
    sign_in(client)
    response = client.post("/accounts/logout/", {"next": target})
    assert response.status_code == 302
    assert urlsplit(response["Location"]).netloc in ("", "testserver")


# --- redirectUrl ------------------------------------------------------------------------------

PROCESSES = "/api/v1/orgs/acme/processes"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "//evil.example.com/back",
        "/relative/back",
        "evil.example.com/back",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
    ],
)
def test_redirect_url_must_be_absolute_http(api, url):
    response = api.post(PROCESSES, {"provider": "sandbox", "redirectUrl": url}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"][0]["field"] == "redirectUrl"


def test_the_sandbox_page_redirects_only_to_the_registered_url(api, client):
    created = api.post(
        PROCESSES, {"provider": "sandbox", "redirectUrl": "https://integrator.example.com/back?x=1"}, format="json"
    ).json()
    page = urlsplit(created["url"]).path
    form = client.get(page)
    assert form.status_code == 200
    outcome = form.context["form"].fields["outcome"].choices[0][0]

    # Redirect targets in the request are ignored: only the registered redirectUrl counts.
    response = client.post(
        page + "?next=https://evil.example.com/&redirectUrl=https://evil.example.com/",
        {"outcome": outcome, "next": "https://evil.example.com/", "redirectUrl": "https://evil.example.com/"},
    )

    assert response.status_code == 302
    target = urlsplit(response["Location"])
    assert (target.scheme, target.netloc, target.path) == ("https", "integrator.example.com", "/back")
    query = parse_qs(target.query)
    assert query["x"] == ["1"]
    assert query["processId"] == [created["processId"]]
    assert query["status"] == [VerificationProcess.objects.get(pk=created["processId"]).status]


def test_without_a_redirect_url_the_page_stays_on_the_site(api, client):
    created = api.post(PROCESSES, {"provider": "sandbox"}, format="json").json()
    process = VerificationProcess.objects.get(pk=created["processId"])
    page = urlsplit(process_url(process)).path
    outcome = client.get(page).context["form"].fields["outcome"].choices[0][0]
    response = client.post(page + "?next=https://evil.example.com/", {"outcome": outcome})
    assert response.status_code == 302
    assert response["Location"] == page
