"""What the portal fetches for a connected provider: an organization's settings (issuer, Onfido
API URL) and a provider's discovery document name URLs the portal then calls, so each is held to
the webhook destination rules (public addresses only, http(s), no credentials, no redirects)
and each answer is read up to a cap. PROVIDERS_ALLOW_PRIVATE_NETWORKS is on in the test settings
(the fake providers listen on 127.0.0.1); these tests turn it off as production has it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from apps.verifications.connectors import connect
from apps.verifications.connectors.base import ProviderError, provider_url_check
from apps.verifications.models import ProviderConnection

pytestmark = pytest.mark.django_db

URL = "/api/v1/orgs/acme/providers"
ONFIDO = {"api_token": "api_sandbox.t", "webhook_token": "w", "workflow_id": "8f4a7c2e-0d1b-4f6a-9c3e-2b5d7e9f1a3c"}


class _Provider:
    """A local HTTP server answering each path with a prepared (status, headers, body)."""

    def __init__(self) -> None:
        self.answers: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: list[str] = []
        answers, hits = self.answers, self.hits

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                hits.append(self.path)
                status, headers, body = answers.get(self.path, (404, {}, b"{}"))
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider() -> Iterator[_Provider]:
    started = _Provider()
    yield started
    started.stop()


@pytest.fixture
def production_rules(settings):
    settings.PROVIDERS_ALLOW_PRIVATE_NETWORKS = False


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8000",
        "http://169.254.169.254/latest",
        "http://10.0.0.5",
        "http://[::1]",
        "http://[::ffff:127.0.0.1]",
        "http://[64:ff9b:1::a00:1]",
        "http://user:pass@93.184.216.34",
    ],
)
def test_settings_naming_the_portals_own_network_are_refused(api, org, production_rules, address):
    connect_body = {"issuer": address, "client_id": "portal"}
    response = api.put(f"{URL}/connect", connect_body, format="json")
    assert response.status_code == 400, response.content
    assert "issuer" in response.content.decode()
    response = api.put(f"{URL}/onfido", {**ONFIDO, "api_url": address}, format="json")
    assert response.status_code == 400, response.content
    assert "api_url" in response.content.decode()
    assert not ProviderConnection.objects.filter(organization=org).exists()


def test_a_public_looking_discovery_document_cannot_send_the_portal_inward(monkeypatch, production_rules):
    """The issuer's own document names the endpoints: a token endpoint, JWKS or userInfo on a
    private address is refused before anything is sent there."""
    issuer = "https://93.184.216.34"
    good = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
        "userinfo_endpoint": f"{issuer}/userinfo",
    }
    served: dict = {}
    monkeypatch.setattr(connect, "_get_json", lambda url, **kwargs: served)
    served.update(good)
    assert connect.discover(issuer)["token_endpoint"] == f"{issuer}/token"
    for name in ("token_endpoint", "jwks_uri", "userinfo_endpoint"):
        served.clear()
        served.update({**good, name: "http://169.254.169.254/latest/meta-data"})
        with pytest.raises(ProviderError) as refused:
            connect.discover(issuer)
        assert refused.value.fail_reason["type"] == "provider_config", name


def test_a_loopback_issuer_is_refused_before_connecting(provider, production_rules):
    with pytest.raises(ProviderError) as refused:
        connect.discover(provider.url)
    assert refused.value.fail_reason["type"] == "provider_config"
    assert provider.hits == []


def test_the_authorization_endpoint_must_be_a_web_address(provider):
    issuer = provider.url
    document = {
        "issuer": issuer,
        "authorization_endpoint": "javascript:alert(1)",
        "token_endpoint": f"{issuer}/token",
        "jwks_uri": f"{issuer}/jwks",
    }
    provider.answers["/.well-known/openid-configuration"] = (200, {}, json.dumps(document).encode())
    with pytest.raises(ProviderError, match="authorization endpoint"):
        connect.discover(issuer)


def test_redirects_are_not_followed_and_big_answers_are_refused(provider):
    provider.answers["/moved"] = (302, {"Location": "http://169.254.169.254/"}, b"")
    with pytest.raises(ProviderError) as moved:
        connect._get_json(f"{provider.url}/moved")
    assert moved.value.fail_reason["status"] == 302

    huge = b'{"keys": ["' + b"k" * (connect.MAX_ANSWER_BYTES + 10) + b'"]}'
    provider.answers["/jwks"] = (200, {}, huge)
    with pytest.raises(ProviderError, match="larger than"):
        connect._get_json(f"{provider.url}/jwks")

    deep = b"[" * 5000 + b"]" * 5000
    provider.answers["/deep"] = (200, {}, deep)
    with pytest.raises(ProviderError, match="not JSON"):
        connect._get_json(f"{provider.url}/deep")

    provider.answers["/ok"] = (200, {}, b'{"keys": []}')
    assert connect._get_json(f"{provider.url}/ok") == {"keys": []}


def test_the_check_answers_the_url_it_allows(settings):
    settings.PROVIDERS_ALLOW_PRIVATE_NETWORKS = False
    assert provider_url_check("https://93.184.216.34/v3.6") == "https://93.184.216.34/v3.6"
    for refused in ("ftp://93.184.216.34/", "file:///etc/passwd", "http://[fd00:ec2::254]/"):
        with pytest.raises(ProviderError):
            provider_url_check(refused)
