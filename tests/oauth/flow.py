"""The authorization code flow with PKCE, driven through the portal's own endpoints with
Django's test client: what a person's app does, for the tests of every suite that need a token."""

from __future__ import annotations

import base64
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from django.test import Client

from apps.oauth.models import Application

REDIRECT_URI = "com.example.phone:/callback"


def register_app(
    *, name: str = "Mio Phone", scopes: str = "openid profile inbox sessions details", redirect_uris: str = REDIRECT_URI
) -> Application:
    """An app as a superuser registers it in the back office (validated the same way)."""
    app = Application(name=name, redirect_uris=redirect_uris, allowed_scopes=scopes)
    app.full_clean()
    app.save()
    return app


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def authorize_params(app: Application, scope: str, challenge: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": app.redirect_uris.split()[0],
        "scope": scope,
        "state": "state-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }


def approval_post(page: Any) -> dict[str, str]:
    """The hidden fields of the approval form a GET rendered, as the browser posts them back."""
    form = page.context["form"]
    return {name: str(value) for name, value in form.initial.items() if value is not None}


def redirect_query(response: Any) -> dict[str, str]:
    assert response.status_code == 302, (response.status_code, getattr(response, "content", b"")[:500])
    return {key: values[0] for key, values in parse_qs(urlsplit(response["Location"]).query).items()}


@dataclass
class Tokens:
    access_token: str
    refresh_token: str
    id_token: str
    scope: str
    body: dict[str, Any]


def exchange(client: Client, app: Application, code: str, verifier: str) -> Any:
    return client.post(
        "/oauth/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": app.redirect_uris.split()[0],
            "client_id": app.client_id,
            "code_verifier": verifier,
        },
    )


def refresh(client: Client, app: Application, refresh_token: str) -> Any:
    return client.post(
        "/oauth/token/", {"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": app.client_id}
    )


def sign_in_and_approve(person: Any, app: Application, scope: str = "openid inbox sessions details") -> Tokens:
    """The person signs in, approves `app` for `scope`, and the app exchanges the code."""
    browser = Client()
    browser.force_login(person)
    verifier, challenge = pkce_pair()
    page = browser.get("/oauth/authorize/", authorize_params(app, scope, challenge))
    assert page.status_code == 200, page.content[:500]
    answer = redirect_query(browser.post("/oauth/authorize/", {**approval_post(page), "allow": "allow"}))
    assert answer["state"] == "state-123"
    response = exchange(Client(), app, answer["code"], verifier)
    assert response.status_code == 200, response.content
    body = response.json()
    return Tokens(body["access_token"], body["refresh_token"], body.get("id_token", ""), body["scope"], body)


def bearer(token: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}
