"""The authorization code flow of people's apps (API.md "People's apps"): sign-in, the approval
page, PKCE S256, exact redirect URIs, codes, OpenID Connect discovery, JWKS and ID tokens."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from apps.audit.models import ActorType, Transition
from apps.oauth.models import Connection, ConnectionStatus
from apps.oauth.validators import pairwise_subject
from tests.oauth.flow import (
    REDIRECT_URI,
    approval_post,
    authorize_params,
    exchange,
    pkce_pair,
    redirect_query,
    register_app,
    sign_in_and_approve,
)

pytestmark = pytest.mark.django_db


def _browser(person) -> Client:
    browser = Client()
    browser.force_login(person)
    return browser


def test_it_sends_a_signed_out_person_to_sign_in_and_back(person, app):
    _, challenge = pkce_pair()
    params = authorize_params(app, "openid inbox", challenge)

    response = Client().get("/oauth/authorize/", params)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/oauth/authorize/")
    back = parse_qs(urlsplit(response["Location"]).query)["next"][0]
    signed_in = Client()
    login = signed_in.post(
        "/accounts/login/", {"username": "ana@example.com", "password": "correct-horse-9", "next": back}
    )
    assert (login.status_code, login["Location"]) == (302, back)
    page = signed_in.get(back)
    assert page.status_code == 200
    assert page.context["application"] == app


def test_it_shows_the_app_and_its_scopes_in_plain_words(person, app):
    _, challenge = pkce_pair()

    page = _browser(person).get("/oauth/authorize/", authorize_params(app, "openid inbox sessions", challenge))

    html = page.content.decode()
    assert page.status_code == 200
    assert "Allow Mio Phone to act for you?" in html
    assert "See the requests waiting for you, accept or decline them, and end a sharing" in html
    assert "Answer data-transfer sessions" in html
    assert "Read your personal details" not in html  # not asked for
    assert 'name="allow"' in html


def test_it_shows_the_approval_page_in_spanish(person, app):
    _, challenge = pkce_pair()
    browser = _browser(person)
    browser.cookies["django_language"] = "es"

    page = browser.get("/oauth/authorize/", authorize_params(app, "openid details", challenge))

    html = page.content.decode()
    assert "¿Permitir que Mio Phone actúe por ti?" in html
    assert "Leer tus datos personales" in html
    assert "Permitir" in html and "Denegar" in html


def test_it_issues_a_code_for_the_approval_and_records_the_connection(person, app):
    verifier, challenge = pkce_pair()
    browser = _browser(person)
    page = browser.get("/oauth/authorize/", authorize_params(app, "openid inbox", challenge))

    answer = redirect_query(browser.post("/oauth/authorize/", {**approval_post(page), "allow": "allow"}))

    assert answer["state"] == "state-123"
    assert answer["iss"] == "http://testserver"  # RFC 9207
    connection = Connection.objects.get(person=person, application=app)
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.scope == "openid inbox"
    row = Transition.objects.get(object_id=str(connection.pk))
    assert (row.actor_type, row.actor_id, row.to_state) == (ActorType.USER, str(person.pk), "active")
    assert row.published_at is not None  # the person's own business, no organization's event
    tokens = exchange(Client(), app, answer["code"], verifier)
    assert tokens.status_code == 200
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    assert body["scope"] == "openid inbox"
    assert body["refresh_token"]


def test_a_denial_returns_access_denied_and_connects_nothing(person, app):
    _, challenge = pkce_pair()
    browser = _browser(person)
    page = browser.get("/oauth/authorize/", authorize_params(app, "openid inbox", challenge))

    response = browser.post("/oauth/authorize/", approval_post(page))

    answer = redirect_query(response)
    assert response["Location"].startswith(REDIRECT_URI)
    assert answer["error"] == "access_denied"
    assert answer["state"] == "state-123"
    assert "code" not in answer
    assert not Connection.objects.exists()


def test_it_requires_pkce(person, app):
    browser = _browser(person)
    params = authorize_params(app, "openid", "x" * 43)
    del params["code_challenge"], params["code_challenge_method"]

    answer = redirect_query(browser.get("/oauth/authorize/", params))

    assert answer["error"] == "invalid_request"


def test_it_refuses_the_plain_pkce_method(person, app):
    verifier, _ = pkce_pair()
    browser = _browser(person)
    page = browser.get("/oauth/authorize/", authorize_params(app, "openid", verifier, code_challenge_method="plain"))

    response = (
        browser.post("/oauth/authorize/", {**approval_post(page), "allow": "allow"})
        if page.status_code == 200
        else page
    )

    answer = redirect_query(response)
    assert answer["error"] == "invalid_request"
    assert "code" not in answer


def test_a_code_needs_its_verifier_and_works_once(person, app):
    verifier, challenge = pkce_pair()
    browser = _browser(person)
    page = browser.get("/oauth/authorize/", authorize_params(app, "openid", challenge))
    code = redirect_query(browser.post("/oauth/authorize/", {**approval_post(page), "allow": "allow"}))["code"]

    wrong = exchange(Client(), app, code, pkce_pair()[0])
    right = exchange(Client(), app, code, verifier)
    again = exchange(Client(), app, code, verifier)

    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    assert right.status_code == 200
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")


def test_a_code_lives_one_minute(person, app):
    verifier, challenge = pkce_pair()
    browser = _browser(person)
    page = browser.get("/oauth/authorize/", authorize_params(app, "openid", challenge))
    code = redirect_query(browser.post("/oauth/authorize/", {**approval_post(page), "allow": "allow"}))["code"]

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        late = exchange(Client(), app, code, verifier)

    assert (late.status_code, late.json()["error"]) == (400, "invalid_grant")


@pytest.mark.parametrize(
    "change",
    [
        {"client_id": "not-registered"},
        {"redirect_uri": "com.example.phone:/elsewhere"},
        {"redirect_uri": "https://attacker.example.com/callback"},
    ],
    ids=["unknown app", "unregistered redirect", "foreign redirect"],
)
def test_an_unregistered_app_or_redirect_gets_an_error_page_and_no_redirect(person, app, change):
    _, challenge = pkce_pair()

    response = _browser(person).get("/oauth/authorize/", {**authorize_params(app, "openid", challenge), **change})

    assert response.status_code == 400
    assert "This app cannot sign you in" in response.content.decode()
    assert not Connection.objects.exists()


def test_an_app_asks_only_for_its_registered_scopes(person):
    narrow = register_app(name="Reader", scopes="openid details")
    _, challenge = pkce_pair()

    answer = redirect_query(
        _browser(person).get("/oauth/authorize/", authorize_params(narrow, "openid inbox", challenge))
    )

    assert answer["error"] == "invalid_scope"


def test_a_suspended_app_signs_nobody_in(person, app):
    app.is_active = False
    app.save()
    _, challenge = pkce_pair()

    response = _browser(person).get("/oauth/authorize/", authorize_params(app, "openid", challenge))

    assert response.status_code == 400
    assert not Connection.objects.exists()


def test_a_tampered_approval_form_is_an_error_page_not_a_crash(person, app):
    _, challenge = pkce_pair()
    browser = _browser(person)
    page = browser.get("/oauth/authorize/", authorize_params(app, "openid", challenge))

    forged = browser.post("/oauth/authorize/", {**approval_post(page), "client_id": "forged", "allow": "allow"})
    emptied = browser.post("/oauth/authorize/", {"allow": "allow"})

    assert forged.status_code == 400
    assert emptied.status_code == 400
    assert not Connection.objects.exists()


def test_scopes_widened_in_the_approval_form_are_checked_again(person):
    narrow = register_app(name="Reader", scopes="openid inbox")
    _, challenge = pkce_pair()
    browser = _browser(person)
    page = browser.get("/oauth/authorize/", authorize_params(narrow, "openid", challenge))

    widened = browser.post(
        "/oauth/authorize/", {**approval_post(page), "scope": "openid inbox details", "allow": "allow"}
    )

    assert redirect_query(widened)["error"] == "invalid_scope"
    assert not Connection.objects.exists()


def test_discovery_and_jwks_describe_the_provider(client):
    config = client.get("/.well-known/openid-configuration").json()
    keys = client.get("/.well-known/jwks.json").json()["keys"]

    assert config["issuer"] == "http://testserver"
    assert config["authorization_endpoint"] == "http://testserver/oauth/authorize/"
    assert config["token_endpoint"] == "http://testserver/oauth/token/"
    assert config["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    assert config["scopes_supported"] == ["openid", "profile", "inbox", "sessions", "details"]
    assert config["response_types_supported"] == ["code"]
    assert config["code_challenge_methods_supported"] == ["S256"]
    assert config["subject_types_supported"] == ["pairwise"]
    assert config["token_endpoint_auth_methods_supported"] == ["none"]
    assert config["id_token_signing_alg_values_supported"] == ["RS256"]
    assert [(key["kty"], key["alg"], key["use"]) for key in keys] == [("RSA", "RS256", "sig")]


def test_the_id_token_is_signed_by_the_published_key_with_a_pairwise_subject(client, person, app):
    other_app = register_app(name="Other", scopes="openid profile")
    tokens = sign_in_and_approve(person, app, "openid profile")
    other = sign_in_and_approve(person, other_app, "openid")
    jwks = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())

    claims = jwt.decode(
        tokens.id_token, key=jwks.keys[0].key, algorithms=["RS256"], audience=app.client_id, issuer="http://testserver"
    )
    other_claims = jwt.decode(other.id_token, key=jwks.keys[0].key, algorithms=["RS256"], audience=other_app.client_id)

    assert claims["sub"] == pairwise_subject(client_id=app.client_id, person_id=person.pk)
    assert claims["sub"] != other_claims["sub"]
    assert claims["sub"] not in (str(person.pk), person.email)
    assert (claims["given_name"], claims["family_name"]) == ("Ana", "García")
    assert "given_name" not in other_claims  # no `profile` scope, no name
    assert claims["exp"] - claims["iat"] <= 600


def test_userinfo_answers_with_the_same_subject(client, person, app):
    tokens = sign_in_and_approve(person, app, "openid profile")

    response = client.get("/oauth/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens.access_token}")

    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["sub"] == pairwise_subject(client_id=app.client_id, person_id=person.pk)
    assert body["name"] == "Ana García"
