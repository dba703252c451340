"""Connect end to end with a local OpenID provider: the portal's own django-oauth-toolkit provider,
served by live_server (discovery, authorize, token, JWKS, userInfo over HTTP). The person's
browser steps go through Django's test client; the code exchange goes over HTTP."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client, override_settings

from apps.oauth.models import Application
from apps.verifications.connectors import connect as connect_connector
from apps.verifications.models import ProviderRun, VerificationProcess
from tests.factories import make_person
from tests.oauth.flow import approval_post

pytestmark = pytest.mark.django_db(transaction=True)

PROCESSES = "/api/v1/orgs/acme/processes"
CALLBACK = "/verify/connect/callback"


class _Live:
    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture
def live(live_server):
    # http is for loopback addresses only (apps.oauth): the provider is at 127.0.0.1.
    url = live_server.url.replace("localhost", "127.0.0.1")
    provider = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": url}
    with override_settings(PUBLIC_BASE_URL=url, OAUTH2_PROVIDER=provider):
        yield _Live(url)


@pytest.fixture
def oidc_app(live):
    app = Application(name="Acme verification", redirect_uris=live.url + CALLBACK, allowed_scopes="openid profile")
    app.full_clean()
    app.save()
    return app


@pytest.fixture
def person(db):
    return make_person("ana@example.com", first_name="Ana", last_name="García")


@pytest.fixture
def browser(person):
    client = Client()
    client.force_login(person)
    return client


def _connect(api, live, app, **extra):
    body = {"issuer": live.url, "client_id": app.client_id, "scopes": "openid profile", **extra}
    assert api.put("/api/v1/orgs/acme/providers/connect", body, format="json").status_code == 201


def _create(api, **extra):
    response = api.post(PROCESSES, {"provider": "connect", **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def _authorize(browser, url):
    """The person approves at the provider; answers the provider's redirect back (query)."""
    parts = urlsplit(url)
    path = f"{parts.path}?{parts.query}"
    page = browser.get(path)
    assert page.status_code == 200, page.content[:300]
    answer = browser.post(path, {**approval_post(page), "allow": "Authorize"})
    assert answer.status_code == 302, answer.content[:300]
    return answer["Location"]


def test_the_person_signs_in_at_the_provider_and_comes_back_accepted(api, live, oidc_app, browser):
    _connect(api, live, oidc_app)
    body = _create(api, redirectUrl="https://example.com/back")
    query = parse_qs(urlsplit(body["url"]).query)
    assert body["url"].startswith(live.url + "/oauth/authorize/")
    assert query["code_challenge_method"] == ["S256"] and query["nonce"] and query["state"]
    run = ProviderRun.objects.get(process_id=body["processId"])
    assert run.data["codeVerifier"] not in body["url"]  # the verifier stays server-side

    back = _authorize(browser, body["url"])
    assert back.startswith(live.url + CALLBACK)
    landing = browser.get(back.removeprefix(live.url))
    assert landing.status_code == 302
    assert landing["Location"].startswith("https://example.com/back?")
    assert "status=accepted" in landing["Location"]

    process = api.get(f"{PROCESSES}/{body['processId']}").json()
    assert process["status"] == "accepted"
    assert process["finalResult"] == {"firstName": "Ana", "lastName": "García"}
    assert process["providerSpecific"]["userInfo"]["given_name"] == "Ana"
    raw = VerificationProcess.objects.get(pk=body["processId"]).raw_result
    assert raw["idTokenClaims"]["aud"] == oidc_app.client_id


def test_access_denied_is_canceled_and_the_person_returns(api, live, oidc_app, browser):
    _connect(api, live, oidc_app)
    body = _create(api, redirectUrl="https://example.com/back")
    state = parse_qs(urlsplit(body["url"]).query)["state"][0]
    landing = browser.get(CALLBACK, {"state": state, "error": "access_denied"})
    assert landing.status_code == 302 and "status=canceled" in landing["Location"]
    assert VerificationProcess.objects.get(pk=body["processId"]).status == "canceled"


def test_a_tampered_or_expired_state_changes_nothing(api, live, oidc_app, browser, monkeypatch):
    _connect(api, live, oidc_app)
    body = _create(api)
    back = _authorize(browser, body["url"])
    query = {k: v[0] for k, v in parse_qs(urlsplit(back).query).items()}
    forged = signing.dumps({"p": body["processId"], "r": "x"}, salt=connect_connector.STATE_SALT)
    assert browser.get(CALLBACK, {**query, "state": forged}).status_code == 400  # not the state sent out
    assert browser.get(CALLBACK, {**query, "state": query["state"] + "x"}).status_code == 400
    assert browser.get(CALLBACK, {"code": query["code"]}).status_code == 400
    monkeypatch.setattr(connect_connector, "state_max_age", lambda: -1)
    assert browser.get(CALLBACK, query).status_code == 400  # expired
    assert VerificationProcess.objects.get(pk=body["processId"]).status == "pending"


def test_a_wrong_nonce_fails_the_process(api, live, oidc_app, browser):
    _connect(api, live, oidc_app)
    body = _create(api)
    run = ProviderRun.objects.get(process_id=body["processId"])
    back = _authorize(browser, body["url"])
    run.data = {**run.data, "nonce": "not-the-one-sent"}
    run.save(update_fields=["data"])
    browser.get(back.removeprefix(live.url))
    process = api.get(f"{PROCESSES}/{body['processId']}").json()
    assert process["status"] == "failed"
    assert process["failReason"]["type"] == "invalid_id_token"


def test_a_wrong_audience_fails_the_process(api, live, oidc_app, browser):
    other = Application(name="Other", redirect_uris=live.url + CALLBACK, allowed_scopes="openid profile")
    other.full_clean()
    other.save()
    _connect(api, live, oidc_app)
    body = _create(api)
    back = _authorize(browser, body["url"])
    # The connection now names another client: the ID token (aud = the first) is not for it.
    connection = ProviderRun.objects.get(process_id=body["processId"]).connection
    connection.settings = {**connection.settings, "client_id": other.client_id}
    connection.save(update_fields=["settings"])
    browser.get(back.removeprefix(live.url))
    process = VerificationProcess.objects.get(pk=body["processId"])
    assert process.status == "failed"


def test_an_unreachable_issuer_fails_the_process_at_creation(api, live):
    body = {"issuer": "http://127.0.0.1:9", "client_id": "portal"}
    assert api.put("/api/v1/orgs/acme/providers/connect", body, format="json").status_code == 201
    process = _create(api)
    assert process["status"] == "failed"
    assert process["failReason"]["type"] == "provider_unreachable"


def test_a_provider_5xx_at_the_token_endpoint_fails_the_process(api, live, oidc_app, browser):
    _connect(api, live, oidc_app)
    body = _create(api)
    back = _authorize(browser, body["url"])
    run = ProviderRun.objects.get(process_id=body["processId"])
    run.data = {**run.data, "tokenEndpoint": live.url + "/no-such-token-endpoint/"}
    run.save(update_fields=["data"])
    browser.get(back.removeprefix(live.url))
    process = api.get(f"{PROCESSES}/{body['processId']}").json()
    assert process["status"] == "failed"
    assert process["failReason"]["type"] == "provider_error"
