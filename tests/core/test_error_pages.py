"""The portal's own 404, 403, 405, 400 and 500 pages, the favicon and page titles; API paths keep
their JSON error shape."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client, override_settings

from apps.core.error_pages import page_not_found
from tests.factories import make_person

pytestmark = pytest.mark.django_db

TITLE = re.compile(r"<title>(.*?)</title>", re.S)


def _title(html: str) -> str:
    (title,) = TITLE.findall(html)
    return title


def test_an_unknown_page_answers_the_portal_404(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-error="404"' in html
    assert _title(html) == "Page not found · Identity Portal"
    assert 'href="/me/"' in html


@override_settings(DEBUG=True)
def test_the_portal_404_replaces_the_debug_page(client):
    response = client.get("/no-such-page/")

    assert response.status_code == 404
    html = response.content.decode()
    assert 'data-error="404"' in html
    assert "DEBUG = True" not in html


def test_the_404_is_in_the_page_language(client):
    response = client.get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="es")

    assert "Página no encontrada" in response.content.decode()


def test_a_view_own_404_page_is_kept(client):
    client.force_login(make_person("ana@example.com"))

    response = client.get("/session/00000000-0000-0000-0000-000000000000")

    assert response.status_code == 404
    assert 'data-error="404"' not in response.content.decode()


def test_a_wrong_method_answers_the_portal_405_with_allow(client):
    client.force_login(make_person("ana@example.com"))

    response = client.get("/me/apps/00000000-0000-0000-0000-000000000000/revoke")

    assert response.status_code == 405
    assert response["Allow"] == "POST"
    html = response.content.decode()
    assert 'data-error="405"' in html
    assert _title(html) == "This action is not available here · Identity Portal"


def test_the_api_keeps_its_json_errors(client):
    not_found = client.get("/api/v1/no-such-thing")
    not_allowed = client.put("/api/schema/")

    assert not_found.status_code == 404
    assert not_found["Content-Type"].startswith("application/json")
    assert b"not_found" in not_found.content
    assert not_allowed.status_code == 405
    assert not_allowed["Content-Type"].startswith("application/json")


@override_settings(ROOT_URLCONF="tests.core.error_urls")
def test_a_forbidden_page_answers_the_portal_403(client):
    response = client.get("/forbidden/")

    assert response.status_code == 403
    assert 'data-error="403"' in response.content.decode()


@override_settings(ROOT_URLCONF="tests.core.error_urls")
def test_a_crash_answers_the_portal_500_without_a_request_context():
    client = Client(raise_request_exception=False)

    response = client.get("/crash/")

    assert response.status_code == 500
    html = response.content.decode()
    assert 'data-error="500"' in html
    assert _title(html) == "Something went wrong · Identity Portal"


def test_the_500_template_renders_without_any_context():
    assert "Something went wrong" in render_to_string("500.html")


def test_favicon(client):
    page = client.get("/accounts/login/").content.decode()
    icon = client.get("/favicon.ico")

    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert icon.status_code == 302
    assert icon["Location"].endswith(".svg")


def test_the_handler_marks_its_page(rf):
    assert page_not_found(rf.get("/x/")).error_page is True


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("/me/", "My page · Identity Portal"),
        ("/me/details/", "Edit my details · Identity Portal"),
        ("/accounts/password_change/", "Change your password · Identity Portal"),
        ("/accounts/logout/", "Sign out · Identity Portal"),
    ],
)
def test_pages_have_a_plain_title(client, url, title):
    client.force_login(make_person("ana@example.com", first_name="<b>Ana</b>"))

    html = client.get(url).content.decode()

    assert _title(html) == title
