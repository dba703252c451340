"""Tokens end when the person revokes the app under "Connected apps" on /me/, changes or resets
their password, or deletes their account (API.md "People's apps")."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.forms import PasswordChangeForm, SetPasswordForm
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from apps.audit.models import ActorType, Transition
from apps.oauth.models import Connection, ConnectionStatus
from apps.people.models import User
from apps.portal.services import person_delete
from tests.oauth.flow import bearer, refresh, register_app, sign_in_and_approve

pytestmark = pytest.mark.django_db

DETAILS = "/api/v1/me/details"


def _dead(app, tokens) -> bool:
    client = Client()
    return (
        client.get(DETAILS, **bearer(tokens.access_token)).status_code == 401
        and refresh(client, app, tokens.refresh_token).status_code == 400
    )


def test_connected_apps_lists_each_app_with_its_scopes_and_last_use(person, app):
    sign_in_and_approve(person, app, "openid inbox details")
    browser = Client()
    browser.force_login(person)

    html = browser.get("/me/").content.decode()

    assert "Connected apps" in html
    assert "Mio Phone" in html
    assert "Read your personal details" in html
    assert "See the requests waiting for you" in html
    assert "Answer data-transfer sessions" not in html
    assert "Last used" in html


def test_connected_apps_says_when_there_is_none(person):
    browser = Client()
    browser.force_login(person)

    assert "No app can act for you" in browser.get("/me/").content.decode()


def test_revoking_an_app_ends_its_tokens_and_is_audited(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")
    other_app = register_app(name="Other")
    kept = sign_in_and_approve(person, other_app, "openid details")
    connection = Connection.objects.get(application=app)
    browser = Client()
    browser.force_login(person)

    response = browser.post(f"/me/apps/{connection.pk}/revoke")

    assert response.status_code == 302
    assert _dead(app, tokens)
    assert Client().get(DETAILS, **bearer(kept.access_token)).status_code == 200  # only that app
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.REVOKED
    row = Transition.objects.filter(object_id=str(connection.pk)).last()
    assert (row.from_state, row.to_state, row.actor_id, row.reason) == (
        "active",
        "revoked",
        str(person.pk),
        "revoked by the person",
    )
    listed = browser.get("/me/").content.decode().split('id="apps-heading"')[1].split("</section>")[0]
    assert "Mio Phone" not in listed and "Other" in listed


def test_another_persons_connection_cannot_be_revoked(person, stranger, app):
    tokens = sign_in_and_approve(person, app, "openid details")
    connection = Connection.objects.get(person=person)
    intruder = Client()
    intruder.force_login(stranger)

    response = intruder.post(f"/me/apps/{connection.pk}/revoke")

    assert response.status_code == 404
    assert Client().get(DETAILS, **bearer(tokens.access_token)).status_code == 200


def test_revoking_needs_a_post_with_csrf(person, app):
    sign_in_and_approve(person, app, "openid details")
    connection = Connection.objects.get(person=person)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(person)

    assert browser.get(f"/me/apps/{connection.pk}/revoke").status_code == 405
    assert browser.post(f"/me/apps/{connection.pk}/revoke").status_code == 403
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE


def test_setting_a_new_password_revokes_every_app(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")

    person.set_password("a-brand-new-password-42")
    person.save()

    assert _dead(app, tokens)
    row = Transition.objects.filter(object_id=str(Connection.objects.get().pk)).last()
    assert (row.to_state, row.actor_type, row.reason) == ("revoked", ActorType.SYSTEM, "password changed")


def test_the_password_change_form_revokes_every_app(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")

    form = PasswordChangeForm(
        person,
        {
            "old_password": "correct-horse-9",
            "new_password1": "a-brand-new-pass-42",
            "new_password2": "a-brand-new-pass-42",
        },
    )
    assert form.is_valid(), form.errors
    form.save()

    assert _dead(app, tokens)


def test_a_reset_revokes_every_app(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")

    # Django's password reset confirmation saves this form.
    form = SetPasswordForm(person, {"new_password1": "a-brand-new-pass-42", "new_password2": "a-brand-new-pass-42"})
    assert form.is_valid(), form.errors
    form.save()

    assert _dead(app, tokens)


def test_signing_in_keeps_the_apps(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")

    assert Client().login(username="ana@example.com", password="correct-horse-9")

    assert Client().get(DETAILS, **bearer(tokens.access_token)).status_code == 200


def test_a_password_hash_upgraded_at_sign_in_keeps_the_apps(person, app, settings):
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.MD5PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    User.objects.filter(pk=person.pk).update(password=make_password("correct-horse-9", hasher="pbkdf2_sha256"))
    person.refresh_from_db()
    tokens = sign_in_and_approve(person, app, "openid details")

    assert Client().login(username="ana@example.com", password="correct-horse-9")

    assert User.objects.get(pk=person.pk).password.startswith("md5$")  # upgraded
    assert Client().get(DETAILS, **bearer(tokens.access_token)).status_code == 200


def test_deleting_the_account_revokes_every_app(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")
    connection = Connection.objects.get()

    person_delete(person=person)

    assert _dead(app, tokens)
    assert not get_access_token_model().objects.exists()
    assert not get_refresh_token_model().objects.filter(revoked__isnull=True).exists()
    row = Transition.objects.filter(object_id=str(connection.pk)).last()
    assert (row.to_state, row.reason) == ("revoked", "account deleted")


def test_disabling_password_sign_in_revokes_every_app(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")

    person.set_unusable_password()
    person.save()

    assert _dead(app, tokens)


def test_the_last_use_follows_the_apps_requests_to_the_minute(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")
    connection = Connection.objects.get()
    first = connection.last_used_at

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        assert Client().get(DETAILS, **bearer(tokens.access_token)).status_code == 200
        later = timezone.now()

    connection.refresh_from_db()
    assert first is not None
    assert abs(connection.last_used_at - later) < timedelta(seconds=5)
