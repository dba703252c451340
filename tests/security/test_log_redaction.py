"""Issue 15, finding 5 (low): secret link tokens (invitation, identification, the display page's
`?token=`) were written to access logs. Every handler now redacts them (apps.core.redaction):
Django's request warnings, runserver's and daphne's access lines, gunicorn's own access log
(gunicorn.conf.py), the ws process (config.ws) and Celery's handlers. Each test reads what a
real handler wrote for real requests."""

from __future__ import annotations

import io
import logging
import uuid
from collections.abc import Iterator

import pytest
import requests
from django.test import Client

from apps.core.redaction import REDACTED, SecretRedactingFilter, redact_secrets
from tests.security.servers import gunicorn, ws_process

ID = "0d9c7a52-3b1e-4f0e-8a57-6f1d2b9c4e21"
# Shapes of the real tokens: Django's signing (identification, verification), the invitation's
# timestamp-hash, and a data-transfer session token.
SIGNED = ".eJxTKkktLlGyUkpJTUvMKy1OVaoFAEVaBnM:1tXyZq:Ab3dEf_ghIjKlMnOpQrStUvWxYz0123456789abcd"
INVITATION = "cn4x2k-4f1d2b9c4e21a8b7c6d5e4f3a2b1c0d9"
SESSION_TOKEN = "q8Zr4mXw2vT9yL6pK3sN1bH7cD5fG0jAeUoIiQwErTy"
SECRETS = (SIGNED, INVITATION, SESSION_TOKEN)


def _assert_redacted(text: str, *must_show: str) -> None:
    for secret in SECRETS:
        assert secret not in text, text
        assert secret[:20] not in text, text
    for shown in must_show:
        assert shown in text, text


# --- What is redacted, and what is left alone -------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"GET /identify/{ID}/{SIGNED}/ HTTP/1.1", f"GET /identify/{ID}/{REDACTED}/ HTTP/1.1"),
        (f"GET /verify/{ID}/{SIGNED}/?step=2", f"GET /verify/{ID}/{REDACTED}/?step=2"),
        (f"Gone: /invitations/{ID}/{INVITATION}/", f"Gone: /invitations/{ID}/{REDACTED}/"),
        (
            f"GET /accounts/login/?next=%2Finvitations%2F{ID}%2F{INVITATION}%2F",
            f"GET /accounts/login/?next=%2Finvitations%2F{ID}%2F{REDACTED}%2F",
        ),
        (
            f"GET /session/{ID}/display?token={SESSION_TOKEN}&lang=es",
            f"GET /session/{ID}/display?token={REDACTED}&lang=es",
        ),
        (f"GET /ws/session/{ID}?token={SESSION_TOKEN}", f"GET /ws/session/{ID}?token={REDACTED}"),
        (
            f"next=%2Fsession%2F{ID}%2Fdisplay%3Ftoken%3D{SESSION_TOKEN}",
            f"next=%2Fsession%2F{ID}%2Fdisplay%3Ftoken%3D{REDACTED}",
        ),
        (f"GET /accounts/reset/MQ/{INVITATION}/", f"GET /accounts/reset/MQ/{REDACTED}/"),
        ("GET /accounts/reset/MQ/set-password/", "GET /accounts/reset/MQ/set-password/"),
        (f"X-Session-Token: {SESSION_TOKEN}", f"X-Session-Token: {REDACTED}"),
        (f"{{'Authorization': 'Bearer {SESSION_TOKEN}'}}", f"{{'Authorization': '{REDACTED}'}}"),
        (f'"-" "Bearer {SESSION_TOKEN}"', f'"-" "Bearer {REDACTED}"'),
        # Left alone: no secret in these.
        (f"GET /me/activities/{ID}/ HTTP/1.1", f"GET /me/activities/{ID}/ HTTP/1.1"),
        (f"POST /api/v1/orgs/acme/activities/{ID}/accept", f"POST /api/v1/orgs/acme/activities/{ID}/accept"),
        (
            "GET /api/v1/orgs/acme/activities?status=SENT&as=receptor",
            "GET /api/v1/orgs/acme/activities?status=SENT&as=receptor",
        ),
    ],
)
def test_it_redacts_secret_parts_and_leaves_the_rest(line, expected):
    assert redact_secrets(line) == expected


# --- Django's logging, through the handlers LOGGING configured ------------------------------------


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    """What the configured console handler (the root's, with its real filter and format) writes."""
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler)]
    configured = [h for h in handlers if any(isinstance(f, SecretRedactingFilter) for f in h.filters)]
    assert configured, "LOGGING's console handler has no redacting filter"
    buffer = io.StringIO()
    previous = [h.setStream(buffer) for h in configured]
    try:
        yield buffer
    finally:
        for handler, stream in zip(configured, previous, strict=True):
            handler.setStream(stream)


@pytest.mark.django_db
def test_request_warnings_of_real_requests_are_redacted(log_output, caplog):
    client = Client()
    for path in (f"/identify/{ID}/{SIGNED}/", f"/verify/{ID}/{SIGNED}/", f"/invitations/{ID}/{INVITATION}/"):
        assert client.get(path).status_code >= 400
    client.get(f"/identify/{ID}/{SIGNED}/no-such-page")

    written = log_output.getvalue()
    assert written.count(REDACTED) >= 4, written
    _assert_redacted(written, "django.request", f"/identify/{ID}/{REDACTED}/")


def test_every_django_logger_reaches_only_redacting_handlers(log_output):
    """runserver writes its access lines to django.server (Django's) or django.channels.server
    (daphne's); Django's defaults gave django.server a handler without the filter."""
    for name in ("django.server", "django.channels.server", "django.request", "apps.identifications.services"):
        logging.getLogger(name).warning('"GET /session/%s/display?token=%s HTTP/1.1" 200 512', ID, SESSION_TOKEN)
        logger = logging.getLogger(name)
        while logger:
            for handler in logger.handlers:
                if type(handler).__module__.startswith("_pytest"):
                    continue  # pytest's own capture, not part of the portal's configuration
                assert any(isinstance(f, SecretRedactingFilter) for f in handler.filters), (name, handler)
            logger = logger.parent if logger.propagate else None

    written = log_output.getvalue()
    assert written.count(f"token={REDACTED}") == 4, written
    _assert_redacted(written)


def test_celery_handlers_get_the_filter(monkeypatch):
    from config.celery import _redact_secrets

    logger = logging.getLogger(f"celery-test-{uuid.uuid4().hex}")
    buffer = io.StringIO()
    logger.addHandler(logging.StreamHandler(buffer))
    logger.propagate = False

    _redact_secrets(logger=logger)
    _redact_secrets(logger=logger)  # once only, however often Celery sets up
    logger.warning("retrying /identify/%s/%s/", ID, SIGNED)

    assert len(logger.handlers[0].filters) == 1
    _assert_redacted(buffer.getvalue(), f"/identify/{ID}/{REDACTED}/")


def test_an_error_report_shows_no_token(rf):
    """The ADMINS email and the error page repeat the URL in several places."""
    from apps.core.reporting import PersonalDataExceptionReporter

    request = rf.get(
        f"/identify/{ID}/{SIGNED}/",
        {"token": SESSION_TOKEN},
        HTTP_REFERER=f"https://portal.example.com/invitations/{ID}/{INVITATION}/",
        HTTP_X_SESSION_TOKEN=SESSION_TOKEN,
    )
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        reporter = PersonalDataExceptionReporter(request, type(exc), exc, exc.__traceback__)
        text, html = reporter.get_traceback_text(), reporter.get_traceback_html()

    _assert_redacted(text, f"/identify/{ID}/{REDACTED}/", "RuntimeError")
    _assert_redacted(html, f"/identify/{ID}/{REDACTED}/")


def test_a_bad_record_still_reaches_the_handler():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%s %s", ("only one",), None)

    assert SecretRedactingFilter().filter(record) is True


# --- gunicorn's own access log and the ws process, as real processes ------------------------------------


def _token_requests(base: str) -> None:
    for path in (
        f"/identify/{ID}/{SIGNED}/nothing-here",
        f"/verify/{ID}/{SIGNED}/nothing-here",
        f"/invitations/{ID}/{INVITATION}/nothing-here",
        f"/no-such-page?token={SESSION_TOKEN}",
        f"/accounts/login/?next=%2Finvitations%2F{ID}%2F{INVITATION}%2F",
    ):
        requests.get(base + path, headers={"Referer": f"{base}/session/{ID}/display?token={SESSION_TOKEN}"}, timeout=10)


def test_gunicorn_writes_no_token_to_its_access_log(tmp_path):
    with gunicorn(tmp_path) as server:
        _token_requests(f"http://127.0.0.1:{server.port}")
        # gunicorn's default access format has the request line and the referer.
        written = server.wait_for_output("/accounts/login/")

    access = [line for line in written.splitlines() if '"GET /' in line]
    assert len(access) >= 5, written
    _assert_redacted(written, f"/identify/{ID}/{REDACTED}/nothing-here", f"token={REDACTED}")
    assert "Not Found: /invitations/" in written  # Django's warning, redacted too, in the same output


def test_the_ws_process_writes_no_token_to_its_access_log(tmp_path):
    with ws_process(tmp_path) as server:
        _token_requests(f"http://127.0.0.1:{server.port}")
        written = server.wait_for_output("/accounts/login/")

    assert '"GET /identify/' in written, written
    _assert_redacted(written, f"/identify/{ID}/{REDACTED}/nothing-here", f"?token={REDACTED}")
