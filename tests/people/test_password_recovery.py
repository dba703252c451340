"""Account recovery at Django's standard paths (API.md "Pages"): reset by email, change while
signed in, sign-out pages. A new password ends the person's other sessions and their apps' tokens."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.core.cache import cache
from django.test import Client

from apps.people.models import User
from tests.factories import make_person, staff_login
from tests.oauth.flow import bearer, refresh, register_app, sign_in_and_approve

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"
NEW_PASSWORD = "a-brand-new-pass-42"
LINK = re.compile(r"http://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def person(db):
    return make_person("ana@example.com", password=PASSWORD, first_name="Ana")


def _reset_link(client: Client, email: str = "ana@example.com") -> str:
    response = client.post("/accounts/password_reset/", {"email": email})
    assert response.status_code == 302
    (match,) = [LINK.search(message.body) for message in mail.outbox if LINK.search(message.body)]
    return match.group(1)


def _signed_in(client: Client) -> bool:
    return client.get("/me/").status_code == 200


def test_it_shows_the_reset_form_with_an_email_field(client):
    response = client.get("/accounts/password_reset/")

    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()


def test_it_answers_the_same_whether_or_not_the_address_has_an_account(client, person):
    known = client.post("/accounts/password_reset/", {"email": "ana@example.com"})
    unknown = client.post("/accounts/password_reset/", {"email": "nobody@example.com"})

    assert (known.status_code, known["Location"]) == (302, "/accounts/password_reset/done/")
    assert (unknown.status_code, unknown["Location"]) == (302, "/accounts/password_reset/done/")
    assert [message.to for message in mail.outbox] == [["ana@example.com"]]
    done = client.get("/accounts/password_reset/done/").content.decode()
    assert "If an account uses this address" in done


def test_the_email_finds_the_account_whatever_the_case_and_links_the_public_address(client, person, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example.com"]
    response = client.post("/accounts/password_reset/", {"email": " ANA@Example.com "}, HTTP_HOST="evil.example.com")

    assert response.status_code == 302
    (message,) = mail.outbox
    assert LINK.search(message.body)
    assert "evil.example.com" not in message.body
    assert "evil.example.com" not in message.alternatives[0][0]


def test_an_inactive_account_gets_no_link(client, person):
    User.objects.filter(pk=person.pk).update(is_active=False)

    response = client.post("/accounts/password_reset/", {"email": "ana@example.com"})

    assert response.status_code == 302
    assert mail.outbox == []


def test_the_email_is_in_the_language_of_the_page(client, person):
    client.post("/accounts/password_reset/", {"email": "ana@example.com"}, HTTP_ACCEPT_LANGUAGE="es")

    (message,) = mail.outbox
    assert "contraseña" in message.subject
    assert "El enlace" in message.body


def test_the_link_sets_a_new_password_once(client, person):
    link = _reset_link(client)

    form = client.get(link, follow=True)
    assert 'name="new_password1"' in form.content.decode()
    assert 'name="new_password2"' in form.content.decode()
    response = client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert (response.status_code, response["Location"]) == (302, "/accounts/reset/done/")
    person.refresh_from_db()
    assert person.check_password(NEW_PASSWORD)
    again = Client().get(link, follow=True).content.decode()
    assert "This link has been used already or has expired" in again
    assert 'name="new_password1"' not in again


def test_mismatched_passwords_change_nothing(client, person):
    form = client.get(_reset_link(client), follow=True)

    response = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": "other-pass-42"}
    )

    assert response.status_code == 200
    assert 'class="errors"' in response.content.decode()
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_a_reset_ends_every_session_and_every_app(client, person):
    elsewhere = Client()
    assert elsewhere.login(username="ana@example.com", password=PASSWORD)
    app = register_app()
    tokens = sign_in_and_approve(person, app, "openid details")

    form = client.get(_reset_link(client), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert not _signed_in(elsewhere)
    assert Client().get("/api/v1/me/details", **bearer(tokens.access_token)).status_code == 401
    assert refresh(Client(), app, tokens.refresh_token).status_code == 400
    assert Client().login(username="ana@example.com", password=NEW_PASSWORD)


def test_resets_are_limited_per_address_with_or_without_an_account(client, person):
    for email in ("ana@example.com", "nobody@example.com"):
        answers = [client.post("/accounts/password_reset/", {"email": email}).status_code for _ in range(4)]
        assert answers == [302, 302, 302, 429]
    assert len(mail.outbox) == 3
    response = client.post("/accounts/password_reset/", {"email": "ana@example.com"})
    assert int(response["Retry-After"]) > 0
    assert "Too many reset emails" in response.content.decode()


def test_resets_are_limited_per_client(client):
    answers = [client.post("/accounts/password_reset/", {"email": f"p{n}@example.com"}).status_code for n in range(21)]

    assert answers == [302] * 20 + [429]
    other_client = Client(REMOTE_ADDR="10.9.9.9")
    assert other_client.post("/accounts/password_reset/", {"email": "p1@example.com"}).status_code == 302


def test_a_staff_reset_keeps_the_second_factor(client):
    staff = make_person("staff@example.com", password=PASSWORD)
    User.objects.filter(pk=staff.pk).update(is_staff=True, is_superuser=True)

    form = client.get(_reset_link(client, "staff@example.com"), follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    browser = Client()
    assert browser.login(username="staff@example.com", password=NEW_PASSWORD)
    response = browser.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/second-factor/")
    assert staff_login(browser, User.objects.get(pk=staff.pk)).get("/admin/").status_code == 200


def test_me_links_to_the_password_change(client, person):
    client.force_login(person)

    assert 'href="/accounts/password_change/"' in client.get("/me/").content.decode()


def test_the_password_change_needs_a_signed_in_person(client):
    response = client.get("/accounts/password_change/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_change_keeps_this_session_and_ends_the_others(client, person):
    elsewhere = Client()
    assert elsewhere.login(username="ana@example.com", password=PASSWORD)
    app = register_app()
    tokens = sign_in_and_approve(person, app, "openid details")
    assert client.login(username="ana@example.com", password=PASSWORD)

    response = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert (response.status_code, response["Location"]) == (302, "/accounts/password_change/done/")
    assert "Your password has been changed" in client.get("/accounts/password_change/done/").content.decode()
    assert _signed_in(client)
    assert not _signed_in(elsewhere)
    assert Client().get("/api/v1/me/details", **bearer(tokens.access_token)).status_code == 401


def test_a_wrong_old_password_changes_nothing(client, person):
    client.force_login(person)

    response = client.post(
        "/accounts/password_change/",
        {"old_password": "wrong-one-1", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_get_logout_answers_a_page_with_a_sign_out_button(client, person):
    client.force_login(person)

    response = client.get("/accounts/logout/")

    assert response.status_code == 200
    html = response.content.decode()
    assert 'action="/accounts/logout/"' in html and 'method="post"' in html
    assert _signed_in(client)


def test_signing_out_lands_on_the_signed_out_page(client, person):
    client.force_login(person)

    response = client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain[-1][0] == "/accounts/signed-out/"
    assert "You are signed out" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_get_logout_when_signed_out_goes_to_the_signed_out_page(client):
    response = client.get("/accounts/logout/")

    assert (response.status_code, response["Location"]) == (302, "/accounts/signed-out/")
