"""SSRF: webhooks go only to public http(s) addresses, checked at registration and at send time.

DNS is faked here: no test resolves or connects to anything but loopback.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from django.test import override_settings

from apps.webhooks.destinations import UnsafeDestination, destination_check
from apps.webhooks.endpoints import endpoint_ping
from apps.webhooks.models import Delivery, DeliveryAttempt, DeliveryStatus, WebhookEndpoint
from tests.webhooks.conftest import Reply

pytestmark = pytest.mark.django_db

WEBHOOKS = "/api/v1/orgs/acme/webhooks"
PUBLIC = "93.184.216.34"
no_private_networks = override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False)

REFUSED = [
    "http://127.0.0.1/",
    "http://127.0.0.1:8000/hook",
    "http://10.0.0.5/",
    "http://169.254.169.254/latest/meta-data",
    "http://[::1]/",
    "http://localhost/",
    "http://192.168.1.1/",
    "http://172.16.0.1/",
    "http://100.64.0.1/",
    "http://0.0.0.0/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://[::ffff:127.0.0.1]/",
    "http://[64:ff9b::7f00:1]/",  # NAT64 form of 127.0.0.1
    "http://[2002:a00:5::1]/",  # 6to4 form of 10.0.0.5
    "http://224.0.0.1/",
    "http://internal.example.com/hook",  # resolves to 10.1.2.3
    "http://mixed.example.com/hook",  # resolves to a public and a private address
    "http://nowhere.example.com/hook",  # does not resolve
    "ftp://hooks.example.com/",
    "file:///etc/passwd",
    "gopher://hooks.example.com/",
    "http://user:secret@hooks.example.com/",
    "https://token@hooks.example.com/",
]


@pytest.fixture
def dns(monkeypatch):
    """A fake resolver: names in the table, IP literals as themselves, localhost as usual, else NXDOMAIN."""
    table: dict[str, list[str]] = {
        "hooks.example.com": [PUBLIC],
        "internal.example.com": ["10.1.2.3"],
        "mixed.example.com": [PUBLIC, "127.0.0.1"],
    }
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        host = host.decode() if isinstance(host, bytes) else host
        lookups.append(host)
        if host == "localhost":
            return real(host, port, family, type, proto, flags)
        addresses = table.get(host)
        if addresses is None:
            try:
                addresses = [str(ipaddress.ip_address(host))]
            except ValueError:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
        port = int(port or 0)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (a, port, 0, 0))
            if ":" in a
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return table, lookups


def _url_errors(response) -> list[str]:
    return [e["message"] for e in response.json()["errors"] if e.get("field") == "url"]


@no_private_networks
@pytest.mark.parametrize("url", REFUSED)
def test_it_refuses_unsafe_urls_at_registration(api, org, dns, url):
    response = api.post(WEBHOOKS, {"url": url, "events": ["identity.state_changed"]}, format="json")

    assert response.status_code == 400, response.json()
    assert _url_errors(response), response.json()
    assert not WebhookEndpoint.objects.exists()


@no_private_networks
@pytest.mark.parametrize("url", [u for u in REFUSED if not u.startswith(("file:", "gopher:"))])
def test_it_refuses_unsafe_urls_in_the_check(dns, url):
    with pytest.raises(UnsafeDestination):
        destination_check(url)


@no_private_networks
def test_it_accepts_a_public_address(api, dns):
    _, lookups = dns

    destination = destination_check("https://hooks.example.com/in?source=portal")

    assert (destination.scheme, destination.host, destination.port) == ("https", "hooks.example.com", 443)
    assert (destination.address, destination.target, destination.host_header) == (
        PUBLIC,
        "/in?source=portal",
        "hooks.example.com",
    )
    assert lookups == ["hooks.example.com"]
    # Registration only checks; it never connects (and no test ever connects to PUBLIC).
    response = api.post(
        WEBHOOKS, {"url": "https://hooks.example.com:8443/in", "events": ["webhook.ping"]}, format="json"
    )
    assert response.status_code == 201, response.json()


@override_settings(WEBHOOKS_REQUIRE_HTTPS=True)
def test_it_refuses_plain_http_when_https_is_required(api, dns):
    response = api.post(WEBHOOKS, {"url": "http://hooks.example.com/in", "events": ["webhook.ping"]}, format="json")

    assert response.status_code == 400
    assert _url_errors(response)
    with pytest.raises(UnsafeDestination):
        destination_check("http://hooks.example.com/in")
    assert destination_check("https://hooks.example.com/in").address == PUBLIC


def test_it_allows_private_networks_only_when_configured(dns):
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=True):
        assert destination_check("http://127.0.0.1:8000/hook").address == "127.0.0.1"
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=False), pytest.raises(UnsafeDestination):
        destination_check("http://127.0.0.1:8000/hook")
    with override_settings(WEBHOOKS_ALLOW_PRIVATE_NETWORKS=True), pytest.raises(UnsafeDestination):
        destination_check("ftp://127.0.0.1/")  # still only http(s)


def _dead_without_a_request(delivery: Delivery, receiver) -> DeliveryAttempt:
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD
    assert delivery.attempt_count == 1
    assert delivery.last_status_code is None
    assert delivery.last_error.startswith("Refused")
    assert receiver.requests == []
    return DeliveryAttempt.objects.get(delivery=delivery)


def test_it_refuses_at_send_time_a_url_that_became_unsafe(
    org, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])  # allowed while private networks were

    with no_private_networks, django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=endpoint)

    _dead_without_a_request(delivery, receiver)


def test_it_refuses_at_send_time_a_name_rebound_to_loopback(
    api, org, receiver, dns, django_capture_on_commit_callbacks
):
    table, _ = dns
    url = f"http://hooks.example.com:{receiver.port}/hook"
    with no_private_networks:
        response = api.post(WEBHOOKS, {"url": url, "events": ["webhook.ping"]}, format="json")
        assert response.status_code == 201  # public at registration
        table["hooks.example.com"] = ["127.0.0.1"]  # the attacker's DNS now answers loopback

        with django_capture_on_commit_callbacks(execute=True):
            delivery = endpoint_ping(endpoint=WebhookEndpoint.objects.get(pk=response.json()["id"]))

    attempt = _dead_without_a_request(delivery, receiver)
    assert "loopback" in attempt.error


def test_it_connects_to_the_address_it_checked(org, receiver, dns, make_endpoint, django_capture_on_commit_callbacks):
    """One lookup per send: a second answer (DNS rebinding) could not redirect the connection."""
    table, lookups = dns
    table["hooks.test"] = ["127.0.0.1"]
    endpoint, secret = make_endpoint(org, f"http://hooks.test:{receiver.port}/hook", events=["webhook.ping"])
    lookups.clear()

    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=endpoint)

    (request,) = receiver.requests
    assert request.headers["host"] == f"hooks.test:{receiver.port}"
    assert request.verify(secret)["type"] == "webhook.ping"
    assert lookups.count("hooks.test") == 1
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED


def test_it_refuses_at_send_time_plain_http_once_https_is_required(
    org, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])

    with override_settings(WEBHOOKS_REQUIRE_HTTPS=True), django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=endpoint)

    _dead_without_a_request(delivery, receiver)


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_it_does_not_follow_a_redirect_to_loopback(
    org, make_receiver, make_endpoint, code, django_capture_on_commit_callbacks
):
    receiver, target = make_receiver(), make_receiver()
    endpoint, _ = make_endpoint(org, receiver.url(), events=["webhook.ping"])
    receiver.default = Reply.redirect(target.url("/admin"), status=code)

    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=endpoint)

    assert len(receiver.requests) == 1
    assert target.requests == []
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.DEAD  # a redirect is a failure, not a success
    assert delivery.last_status_code == code


# --- IPv6 forms that carry an IPv4 address (issue 15, finding 4) --------------------------------
# Each is judged by the IPv4 address inside, and refused when that is loopback, private, link-local
# or otherwise not global; the deprecated transition forms are refused whatever they carry.

EMBEDDED_REFUSED = {
    "::127.0.0.1": "IPv4-compatible 127.0.0.1 (the reviewer's [::127.0.0.1])",
    "::ffff:0:7f00:1": "IPv4-translated (SIIT) 127.0.0.1",
    "64:ff9b:1::a00:1": "local-use NAT64 10.0.0.1",
    "::ffff:127.0.0.1": "IPv4-mapped 127.0.0.1",
    "::ffff:169.254.169.254": "IPv4-mapped metadata address",
    "64:ff9b::a9fe:a9fe": "NAT64 169.254.169.254",
    "64:ff9b::c0a8:101": "NAT64 192.168.1.1",
    "2002:7f00:1::1": "6to4 127.0.0.1",
    "2002:c0a8:101::": "6to4 192.168.1.1",
    "2001:0:4136:e378:8000:63bf:80ff:fffe": "Teredo, client 127.0.0.1 (obfuscated)",
    "2001:0:a00:1::": "Teredo, server 10.0.0.1",
    "::8.8.8.8": "IPv4-compatible, deprecated even around a public address",
    "2001:db8::1": "documentation",
    "5f00::1": "SRv6",
    "fec0::1": "site-local",
}
EMBEDDED_PUBLIC = ["::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1", "2606:4700::1111"]


@no_private_networks
@pytest.mark.parametrize("address", list(EMBEDDED_REFUSED), ids=list(EMBEDDED_REFUSED.values()))
def test_it_refuses_ipv6_forms_of_private_addresses_at_registration(api, dns, address):
    url = f"http://[{address}]:8080/hook"

    response = api.post(WEBHOOKS, {"url": url, "events": ["webhook.ping"]}, format="json")

    assert response.status_code == 400, response.json()
    assert _url_errors(response)
    assert not WebhookEndpoint.objects.exists()
    with pytest.raises(UnsafeDestination):
        destination_check(url)


@no_private_networks
@pytest.mark.parametrize("address", list(EMBEDDED_REFUSED), ids=list(EMBEDDED_REFUSED.values()))
def test_it_refuses_a_name_resolving_to_an_ipv6_form_at_registration(api, dns, address):
    table, _ = dns
    table["hooks.example.com"] = [address]

    response = api.post(WEBHOOKS, {"url": "http://hooks.example.com/", "events": ["webhook.ping"]}, format="json")

    assert response.status_code == 400, response.json()


@no_private_networks
@pytest.mark.parametrize("address", list(EMBEDDED_REFUSED), ids=list(EMBEDDED_REFUSED.values()))
def test_it_refuses_at_send_time_a_name_rebound_to_an_ipv6_form(
    api, org, receiver, dns, django_capture_on_commit_callbacks, address
):
    table, _ = dns
    response = api.post(WEBHOOKS, {"url": "http://hooks.example.com/hook", "events": ["webhook.ping"]}, format="json")
    assert response.status_code == 201  # public at registration
    table["hooks.example.com"] = [address]

    with django_capture_on_commit_callbacks(execute=True):
        delivery = endpoint_ping(endpoint=WebhookEndpoint.objects.get(pk=response.json()["id"]))

    attempt = _dead_without_a_request(delivery, receiver)
    assert "private, loopback" in attempt.error


@no_private_networks
@pytest.mark.parametrize("address", EMBEDDED_PUBLIC)
def test_it_accepts_ipv6_forms_of_public_addresses(dns, address):
    assert destination_check(f"https://[{address}]/hook").address == str(ipaddress.ip_address(address))
