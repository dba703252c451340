"""Abuse limits (issue 10, item 5): what an outsider cannot do at volume.

The per-key API rate limit, sign-in attempts, OTP code sends and guesses, session status
polling, request body size and document uploads. Each limit answers with a clear refusal
(429 with Retry-After, 413, a form error), never a 500, and lets through what is in bounds.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver

from apps.identifications.models import OtpIdentification
from apps.identifications.services import MAX_IMAGE_BYTES
from apps.identities.models import ExternalPersonalIdentity
from apps.organizations.permissions import HasApiKey
from apps.organizations.throttling import ApiKeyRateThrottle
from tests.factories import make_person
from tests.identifications.conftest import step_path

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
PASSWORD = "correct-horse-9"
IDENTITIES = "/api/v1/orgs/acme/external-personal-identities"
OTP = "/api/v1/orgs/acme/identifications/otp"


def _errors(response) -> list[dict]:
    assert response["Content-Type"].startswith("application/json"), response.content[:200]
    errors = response.json()["errors"]
    assert all({"code", "message"} <= set(e) for e in errors)
    return errors


# --- Per-key API rate limit -------------------------------------------------------------------


def _api_views():
    """Every view class reachable from the URL configuration."""

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern) and hasattr(pattern.callback, "view_class"):
                yield str(pattern.pattern), pattern.callback.view_class

    return list(walk(get_resolver().url_patterns))


def test_every_api_key_endpoint_is_rate_limited_per_key():
    """Generated from the URLs: a new API-key endpoint cannot forget the limit."""
    keyed = [
        (route, view)
        for route, view in _api_views()
        if any(isinstance(p, type) and issubclass(p, HasApiKey) for p in getattr(view, "permission_classes", []))
    ]
    assert len(keyed) > 10
    unlimited = [
        route for route, view in keyed if not any(isinstance(t, ApiKeyRateThrottle) for t in view().get_throttles())
    ]
    assert unlimited == []


@override_settings(API_RATE_LIMIT="2/min")
def test_the_api_key_limit_answers_429_with_retry_after_on_writes_too(api, org):
    payload = {"emailAddress": "ana@example.com", "firstName": "Ana", "lastName": "García", "managed": True}
    with time_machine.travel(START, tick=False):
        assert api.post(IDENTITIES, payload, format="json").status_code == 201
        assert api.get(IDENTITIES).status_code == 200
        response = api.post(IDENTITIES, {**payload, "emailAddress": "bo@example.com"}, format="json")

    assert response.status_code == 429
    assert [e["code"] for e in _errors(response)] == ["throttled"]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert ExternalPersonalIdentity.objects.count() == 1


# --- Sign-in attempts ---------------------------------------------------------------------------


def _login(client: Client, email: str, password: str):
    return client.post("/accounts/login/", {"username": email, "password": password})


def _signed_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def _form_errors(response) -> str:
    return " ".join(str(e) for e in response.context["form"].non_field_errors())


@override_settings(LOGIN_MAX_ATTEMPTS=3, LOGIN_LOCKOUT_SECONDS=600)
def test_it_refuses_sign_in_for_an_email_after_too_many_wrong_passwords(client):
    make_person("ana@example.com", password=PASSWORD)
    with time_machine.travel(START, tick=False):
        for _ in range(2):
            response = _login(client, "ana@example.com", "wrong-password")
            assert "Please enter a correct" in _form_errors(response)
        third = _login(client, "ana@example.com", "wrong-password")
        assert "Too many failed sign-in attempts" in _form_errors(third)
        assert "10 minutes" in _form_errors(third)

        # The right password does not get through during the cool-off, in any spelling.
        response = _login(client, " ANA@example.com ", PASSWORD)
        assert response.status_code == 200
        assert "Too many failed sign-in attempts" in _form_errors(response)
        assert not _signed_in(client)

    with time_machine.travel(START + timedelta(seconds=599), tick=False):
        assert "Wait 1 minute and" in _form_errors(_login(client, "ana@example.com", PASSWORD))
    with time_machine.travel(START + timedelta(seconds=601), tick=False):
        assert _login(client, "ana@example.com", PASSWORD).status_code == 302
        assert _signed_in(client)


@override_settings(LOGIN_MAX_ATTEMPTS=3)
def test_the_lock_on_one_email_leaves_other_people_alone(client):
    make_person("ana@example.com", password=PASSWORD)
    make_person("bo@example.com", password=PASSWORD)
    for _ in range(3):
        _login(client, "ana@example.com", "wrong-password")

    assert _login(Client(), "bo@example.com", PASSWORD).status_code == 302
    assert "Too many" in _form_errors(_login(Client(), "ana@example.com", PASSWORD))


@override_settings(LOGIN_MAX_ATTEMPTS=5, LOGIN_MAX_ATTEMPTS_PER_IP=4)
def test_it_refuses_an_address_that_tries_many_emails():
    make_person("victim@example.com", password=PASSWORD)
    attacker = Client(REMOTE_ADDR="203.0.113.7")
    for n in range(4):
        _login(attacker, f"guess{n}@example.com", "wrong-password")

    response = _login(attacker, "victim@example.com", PASSWORD)
    assert "Too many failed sign-in attempts" in _form_errors(response)
    assert not _signed_in(attacker)
    # X-Forwarded-For is the client's to choose: it does not buy a fresh address.
    spoofed = attacker.post(
        "/accounts/login/",
        {"username": "victim@example.com", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.1",
    )
    assert "Too many" in _form_errors(spoofed)
    # Someone else, from another address, signs in as usual.
    assert _login(Client(REMOTE_ADDR="192.0.2.10"), "victim@example.com", PASSWORD).status_code == 302


@override_settings(LOGIN_MAX_ATTEMPTS=5, LOGIN_MAX_ATTEMPTS_PER_IP=3, TRUSTED_PROXIES=1)
def test_behind_a_load_balancer_it_counts_the_address_the_balancer_saw():
    make_person("victim@example.com", password=PASSWORD)
    balancer = {"REMOTE_ADDR": "10.0.0.2"}

    def attempt(forwarded: str, email: str, password: str):
        client = Client(**balancer)
        return client.post(
            "/accounts/login/", {"username": email, "password": password}, HTTP_X_FORWARDED_FOR=forwarded
        )

    # The attacker varies the entries it writes itself; the balancer appends the real address.
    for n in range(3):
        attempt(f"192.0.2.{n}, 203.0.113.7", f"guess{n}@example.com", "wrong-password")
    assert "Too many" in _form_errors(attempt("198.51.100.99, 203.0.113.7", "victim@example.com", PASSWORD))
    # Everybody else behind the same balancer signs in.
    assert attempt("198.51.100.5", "victim@example.com", PASSWORD).status_code == 302


@override_settings(LOGIN_MAX_ATTEMPTS=3)
def test_a_successful_sign_in_forgets_earlier_failures(client):
    make_person("ana@example.com", password=PASSWORD)
    _login(client, "ana@example.com", "wrong-password")
    _login(client, "ana@example.com", "wrong-password")
    assert _login(client, "ana@example.com", PASSWORD).status_code == 302
    client.post("/accounts/logout/")

    _login(client, "ana@example.com", "wrong-password")
    _login(client, "ana@example.com", "wrong-password")
    assert _login(client, "ana@example.com", PASSWORD).status_code == 302


@override_settings(LOGIN_MAX_ATTEMPTS=2)
def test_no_password_is_checked_during_the_cool_off(client, monkeypatch):
    from apps.people.models import User

    make_person("ana@example.com", password=PASSWORD)
    _login(client, "ana@example.com", "wrong-password")
    _login(client, "ana@example.com", "wrong-password")
    checked = []
    monkeypatch.setattr(User, "check_password", lambda self, raw: checked.append(raw) or True)

    _login(client, "ana@example.com", "any-guess")

    assert checked == []
    assert not _signed_in(client)


@override_settings(LOGIN_MAX_ATTEMPTS=2)
def test_the_admin_sign_in_shares_the_lock(client):
    from apps.people.models import User

    User.objects.create_superuser(email="admin@example.com", password=PASSWORD)
    for _ in range(2):
        client.post("/admin/login/", {"username": "admin@example.com", "password": "wrong-password"})

    response = client.post("/admin/login/?next=/admin/", {"username": "admin@example.com", "password": PASSWORD})

    assert response.status_code == 200
    assert not _signed_in(client)


# --- OTP code sends and guesses -----------------------------------------------------------------


@pytest.fixture
def otp_page(api):
    """An identification without a second factor, its page opened and a code sent."""
    response = api.post(
        OTP,
        {
            "actor": {"name": "Ana", "surname": "García", "email": "ana@example.com"},
            "expires_in": "P1D",
            "channel": {"type": "EMAIL"},
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    client = Client()
    path = created["url"].replace("http://testserver", "")
    client.get(path)
    assert client.post(step_path(path, "send"), {"send": "1"}).status_code == 302
    return created["id"], client, path


def _code() -> str:
    return mail.outbox[-1].body.split(" is ")[1][:6]


def test_code_sends_are_limited_with_retry_after(otp_page):
    _, client, path = otp_page
    codes = [client.post(step_path(path, "send"), {"send": "1"}).status_code for _ in range(3)]

    assert codes == [302, 302, 429]
    response = client.post(step_path(path, "send"), {"send": "1"})
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 600


def test_five_wrong_codes_fail_the_identification_and_the_right_one_then_is_refused(otp_page):
    identification_id, client, path = otp_page
    right = _code()
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        client.post(step_path(path, "code"), {"code": wrong})

    assert OtpIdentification.objects.get(pk=identification_id).status == "FAILED"
    assert client.post(step_path(path, "code"), {"code": right}).status_code == 409
    assert OtpIdentification.objects.get(pk=identification_id).status == "FAILED"


# --- Session status polling -------------------------------------------------------------------


def _new_session(api) -> tuple[str, str]:
    response = api.post("/api/v1/orgs/acme/sessions", {"scopes": ["first_name"]}, format="json")
    assert response.status_code == 201
    return response.json()["session_id"], response.json()["session_token"]


@pytest.fixture
def session(api):
    return _new_session(api)


def _poll(session_id: str, token: str, address: str = "198.51.100.20"):
    client = Client(REMOTE_ADDR=address)
    return client.get(f"/api/v1/session/{session_id}/status", HTTP_X_SESSION_TOKEN=token)


@override_settings(SESSION_STATUS_RATE_LIMIT="10/s")
def test_status_polling_is_limited_per_session_and_address(session, api):
    session_id, token = session
    with time_machine.travel(START, tick=False):
        assert [_poll(session_id, token).status_code for _ in range(10)] == [200] * 10
        response = _poll(session_id, token)

        assert response.status_code == 429
        assert [e["code"] for e in _errors(response)] == ["throttled"]
        assert response["Retry-After"] == "1"
        # Another address polling the same session, and the same address polling another
        # session, are counted apart.
        assert _poll(session_id, token, address="198.51.100.21").status_code == 200
        assert _poll(*_new_session(api)).status_code == 200
    with time_machine.travel(START + timedelta(seconds=1.5), tick=False):
        assert _poll(session_id, token).status_code == 200


@override_settings(SESSION_STATUS_RATE_LIMIT="3/s")
def test_wrong_tokens_count_against_the_limit_too(session):
    session_id, token = session
    with time_machine.travel(START, tick=False):
        assert [_poll(session_id, "guess").status_code for _ in range(3)] == [401] * 3
        assert _poll(session_id, token).status_code == 429


def test_the_default_limit_lets_a_normal_display_poll():
    from django.conf import settings

    from apps.api.throttles import SessionStatusRateThrottle

    rate = SessionStatusRateThrottle().parse_rate(settings.SESSION_STATUS_RATE_LIMIT)
    # A display polls about once every two seconds; the limit must allow several times that.
    assert rate[0] / rate[1] >= 2


# --- Request body size ----------------------------------------------------------------------------


@pytest.fixture
def small_bodies(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2048
    return "x" * 4096


def test_an_oversized_json_body_to_an_org_endpoint_is_413(api, org, small_bodies):
    body = json.dumps({"emailAddress": "ana@example.com", "firstName": small_bodies, "lastName": "G", "managed": True})
    response = api.post(IDENTITIES, data=body, content_type="application/json")

    assert response.status_code == 413
    assert [e["code"] for e in _errors(response)] == ["too_large"]
    assert not ExternalPersonalIdentity.objects.exists()


def test_an_oversized_json_body_to_the_persons_session_endpoint_is_413(api, small_bodies, session):
    session_id, _ = session
    person = make_person("ana@example.com", first_name="Ana")
    phone = Client(enforce_csrf_checks=True)
    phone.force_login(person)
    phone.get("/me/")
    response = phone.post(
        f"/api/v1/session/{session_id}/update",
        data=json.dumps({"decision": "confirmed", "accepted_scopes": ["first_name"], "pad": small_bodies}),
        content_type="application/json",
        HTTP_X_CSRFTOKEN=phone.cookies["csrftoken"].value,
    )

    assert response.status_code == 413
    assert [e["code"] for e in _errors(response)] == ["too_large"]


def test_an_oversized_json_body_to_an_action_endpoint_is_413_and_changes_nothing(api, small_bodies):
    created = api.post(
        OTP,
        {
            "actor": {"name": "Ana", "surname": "García", "email": "ana@example.com"},
            "expires_in": "P1D",
            "channel": {"type": "EMAIL"},
        },
        format="json",
    ).json()
    response = api.post(
        f"{OTP}/{created['id']}/cancel", data=json.dumps({"reason": small_bodies}), content_type="application/json"
    )

    assert response.status_code == 413
    assert [e["code"] for e in _errors(response)] == ["too_large"]
    assert OtpIdentification.objects.get(pk=created["id"]).status == "CREATED"


def test_an_oversized_form_body_to_the_api_is_refused_in_json_not_500(api, org, small_bodies):
    response = api.post(IDENTITIES, data=f"firstName={small_bodies}", content_type="application/x-www-form-urlencoded")

    assert response.status_code in (413, 415)
    assert _errors(response)


# --- Document uploads -----------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"\x00" * 64


@pytest.fixture
def images_step(api):
    response = api.post(
        OTP,
        {
            "actor": {"name": "Ana", "surname": "García", "email": "ana@example.com", "document_number": "X1234567"},
            "expires_in": "P1D",
            "two_factor_type": "PERSONAL_DOCUMENT_IMAGE",
            "channel": {"type": "EMAIL"},
        },
        format="json",
    )
    created = response.json()
    client = Client()
    path = created["url"].replace("http://testserver", "")
    client.get(path)
    client.post(step_path(path, "send"), {"send": "1"})
    assert client.post(step_path(path, "code"), {"code": _code()}).status_code == 302
    return created["id"], client, path


def _file(name: str, content: bytes, content_type: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("front", "message"),
    [
        (_file("id.png", b"<script>alert(1)</script>", "image/png"), b"JPEG, PNG or PDF"),
        (_file("id.jpg", b"MZ\x90\x00" + b"\x00" * 64, "image/jpeg"), b"JPEG, PNG or PDF"),
        (_file("id.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "image/svg+xml"), b"JPEG, PNG or PDF"),
        (_file("id.png", b"", "image/png"), b"empty"),
        (_file("id.png", PNG[:8] + b"\x00" * MAX_IMAGE_BYTES, "image/png"), b"larger than 5 MB"),
    ],
    ids=["html-named-png", "exe-named-jpg", "svg", "empty", "too-large"],
)
def test_it_refuses_document_files_by_content_not_by_name_or_declared_type(images_step, front, message):
    identification_id, client, path = images_step
    response = client.post(
        step_path(path, "images"), {"front_image": front, "back_image": _file("b.png", PNG, "image/png")}
    )

    assert response.status_code == 400
    assert message in response.content
    assert OtpIdentification.objects.get(pk=identification_id).images_submitted_at is None


def test_it_keeps_the_type_it_detected_not_the_one_declared(images_step):
    identification_id, client, path = images_step
    response = client.post(
        step_path(path, "images"),
        {"front_image": _file("id.exe", PDF, "application/x-msdownload"), "back_image": _file("b", PNG, "text/html")},
    )

    assert response.status_code == 302
    identification = OtpIdentification.objects.get(pk=identification_id)
    assert (identification.front_image_type, identification.back_image_type) == ("application/pdf", "image/png")
