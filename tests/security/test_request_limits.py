"""Issue 15, finding 6 (low): multipart bodies had no size cap (an 80 MB upload to
/accounts/login/ was read and accepted). The whole body is now capped before anything reads it
(apps.core.body_limits: 3 MiB, 12 MiB on the identification page, which takes two 5 MB images),
in-process and in front of Django's ASGI handler; gunicorn.conf.py caps the request head."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from tests.security.servers import gunicorn, raw_request, ws_process

MB = 1024 * 1024
BOUNDARY = "----portal-edge-test"


class UnreadableInput(io.RawIOBase):
    """A wsgi.input that fails the test if anything reads it: the refusal must come from the headers."""

    read_count = 0

    def read(self, size: int = -1) -> bytes:
        UnreadableInput.read_count += 1
        raise AssertionError("the request body was read")

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


def _multipart_head(path: str, length: int, port: int = 80) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _chunks(total: int, size: int = 256 * 1024):
    first = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; filename="big.bin"\r\n\r\n'.encode()
    yield first
    sent = len(first)
    while sent < total:
        chunk = b"\0" * min(size, total - sent)
        sent += len(chunk)
        yield chunk


def _status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/") else 0


# --- In-process: refused from the headers, before any middleware reads the body ----------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/me/details/", f"/identify/{'0' * 8}-0000-4000-8000-{'0' * 12}/x/"]
)
def test_an_80_mb_multipart_post_is_refused_without_reading_it(path):
    UnreadableInput.read_count = 0
    response = Client().generic(
        "POST",
        path,
        b"x",
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        CONTENT_LENGTH=str(80 * MB),
        **{"wsgi.input": UnreadableInput()},
    )

    assert response.status_code == 413
    assert UnreadableInput.read_count == 0
    assert "too large" in response.content.decode()  # a sentence for the person, not an error page


@pytest.mark.django_db
def test_an_api_body_over_the_cap_is_a_413_in_the_error_shape(api, org):
    response = api.generic(
        "POST",
        "/api/v1/orgs/acme/webhooks",
        b"x",
        content_type="application/json",
        CONTENT_LENGTH=str(4 * MB),
        **{"wsgi.input": UnreadableInput()},
    )

    assert response.status_code == 413
    assert response.json() == {"errors": [{"code": "too_large", "message": "The request is too large."}]}


@pytest.mark.django_db
def test_a_body_of_unknown_length_is_refused(api, org):
    response = api.generic(
        "POST",
        "/api/v1/orgs/acme/webhooks",
        b"",
        content_type="application/json",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": UnreadableInput()},
    )

    assert response.status_code == 411
    assert response.json()["errors"][0]["code"] == "length_required"


@pytest.mark.django_db
def test_a_body_under_the_cap_goes_through(client):
    upload = SimpleUploadedFile("notes.txt", b"x" * (2 * MB), content_type="text/plain")

    response = client.post("/accounts/login/", {"username": "a@example.com", "password": "x", "f": upload})

    assert response.status_code == 200  # the form's own answer (a wrong sign-in), not a 413


@pytest.mark.django_db
@override_settings(REQUEST_BODY_MAX_BYTES=1 * MB)
def test_the_identification_page_takes_two_five_mb_images(client):
    """The page's own limits (5 MB per image) decide there: the body cap leaves room for both."""
    images = {
        "front_image": SimpleUploadedFile("front.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * MB - 16)),
        "back_image": SimpleUploadedFile("back.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (5 * MB - 16)),
    }

    response = client.post(f"/identify/{'0' * 8}-0000-4000-8000-{'0' * 12}/not-a-token/images/", images)

    assert response.status_code == 404  # an unknown identification: the step's own answer, not the cap's 413


# --- gunicorn (the Procfile's web command) and the ws process, as real processes --------------------


def test_gunicorn_answers_413_to_an_80_mb_upload_before_it_arrives(tmp_path):
    with gunicorn(tmp_path) as server:
        answer, sent = raw_request(
            server.port, _multipart_head("/accounts/login/", 80 * MB, server.port), _chunks(80 * MB)
        )

    assert _status(answer) == 413, answer[:300]
    assert sent < 16 * MB, f"{sent / MB:.0f} MB were sent before the answer"


@pytest.mark.parametrize(
    ("name", "head"),
    [
        ("request line", b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("header count", b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(70)) + b"\r\n"),
        ("header size", b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 9000 + b"\r\n\r\n"),
    ],
)
def test_gunicorn_refuses_an_oversized_request_head(tmp_path, name, head):
    with gunicorn(tmp_path) as server:
        answer, _ = raw_request(server.port, head)
        fine, _ = raw_request(server.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")

    assert _status(answer) in (400, 414, 431), (name, answer[:200])
    assert _status(fine) in (200, 503), fine[:200]  # the limits leave a normal request alone


def test_the_ws_process_answers_413_to_an_80_mb_upload_before_it_arrives(tmp_path):
    with ws_process(tmp_path) as server:
        answer, sent = raw_request(
            server.port, _multipart_head("/accounts/login/", 80 * MB, server.port), _chunks(80 * MB)
        )

    assert _status(answer) == 413, answer[:300]
    assert sent < 16 * MB, f"{sent / MB:.0f} MB were sent before the answer"


def test_the_ws_process_cuts_off_a_chunked_body_past_the_cap(tmp_path):
    head = (
        b"POST /accounts/login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: application/octet-stream\r\n\r\n"
    )
    chunk = b"%x\r\n" % (256 * 1024) + b"\0" * (256 * 1024) + b"\r\n"
    with ws_process(tmp_path) as server:
        answer, sent = raw_request(server.port, head, (chunk for _ in range(320)))  # 80 MB

    assert _status(answer) == 413, answer[:300]
    assert sent < 16 * MB, f"{sent / MB:.0f} MB were sent before the answer"
