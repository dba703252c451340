"""Access and refresh tokens of people's apps: lifetimes, rotation, reuse detection, revocation,
storage, and the rate limit per app and person."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_refresh_token_model

from apps.oauth.tasks import purge_expired_tokens
from tests.factories import OrganizationFactory, make_api_key
from tests.oauth.flow import bearer, refresh, sign_in_and_approve

pytestmark = pytest.mark.django_db

DETAILS = "/api/v1/me/details"


def test_an_access_token_works_for_ten_minutes(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")
    client = Client()

    assert client.get(DETAILS, **bearer(tokens.access_token)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=9, seconds=50)):
        assert client.get(DETAILS, **bearer(tokens.access_token)).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(minutes=10, seconds=1)):
        expired = client.get(DETAILS, **bearer(tokens.access_token))

    assert expired.status_code == 401
    assert expired.json()["errors"][0]["code"] == "invalid_token"
    assert "expired" in expired.json()["errors"][0]["message"]
    assert expired["WWW-Authenticate"].startswith("Bearer")


def test_a_refresh_rotates_both_tokens(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")
    client = Client()

    response = refresh(client, app, tokens.refresh_token)

    assert response.status_code == 200
    new = response.json()
    assert new["refresh_token"] != tokens.refresh_token
    assert new["access_token"] != tokens.access_token
    assert new["scope"] == "openid details"
    assert client.get(DETAILS, **bearer(new["access_token"])).status_code == 200
    assert client.get(DETAILS, **bearer(tokens.access_token)).status_code == 401  # the old one is gone


def test_a_reused_refresh_token_revokes_the_whole_family(person, app, caplog):
    tokens = sign_in_and_approve(person, app, "openid details")
    client = Client()
    rotated = refresh(client, app, tokens.refresh_token).json()

    replay = refresh(client, app, tokens.refresh_token)

    assert f"A rotated refresh token was used again: every token of its family is revoked (app {app.pk}" in caplog.text
    assert tokens.refresh_token not in caplog.text

    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    # The legitimate app's current tokens died with the family: a thief and the app cannot both go on.
    assert client.get(DETAILS, **bearer(rotated["access_token"])).status_code == 401
    assert refresh(client, app, rotated["refresh_token"]).json()["error"] == "invalid_grant"
    assert not get_refresh_token_model().objects.filter(user=person, revoked__isnull=True).exists()


def test_a_refresh_token_of_another_app_is_refused(person, app):
    from tests.oauth.flow import register_app

    tokens = sign_in_and_approve(person, app, "openid details")
    other = register_app(name="Other")

    assert refresh(Client(), other, tokens.refresh_token).json()["error"] == "invalid_grant"


def test_the_revocation_endpoint_ends_a_token(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")
    client = Client()

    revoked = client.post("/oauth/revoke_token/", {"token": tokens.refresh_token, "client_id": app.client_id})

    assert revoked.status_code == 200
    assert client.get(DETAILS, **bearer(tokens.access_token)).status_code == 401
    assert refresh(client, app, tokens.refresh_token).json()["error"] == "invalid_grant"


def test_tokens_are_stored_as_hashes_only(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")

    stored = get_access_token_model().objects.get(user=person)

    assert stored.token == ""
    assert stored.token_checksum == hashlib.sha256(tokens.access_token.encode()).hexdigest()
    assert get_refresh_token_model().objects.get(user=person).token == ""


@pytest.mark.parametrize("header", ["Bearer not-a-token", "Bearer", "Basic abc", "Bearer a b"])
def test_a_bad_token_is_a_401_in_the_error_shape(person, app, header):
    response = Client().get(DETAILS, HTTP_AUTHORIZATION=header)

    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] in ("invalid_token", "not_authenticated")


def test_an_api_key_is_refused(person, app):
    key = make_api_key(OrganizationFactory())

    response = Client().get(DETAILS, **bearer(key))

    assert response.status_code == 401
    assert "API keys are not accepted here" in response.json()["errors"][0]["message"]


def test_a_token_in_the_query_string_is_not_read(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")

    assert Client().get(DETAILS, {"access_token": tokens.access_token}).status_code == 401


def test_a_signed_in_browser_is_no_app(person, app):
    browser = Client()
    browser.force_login(person)

    assert browser.get(DETAILS).status_code == 401


def test_an_inactive_account_or_a_suspended_app_stops_the_token(person, app):
    tokens = sign_in_and_approve(person, app, "openid details")
    client = Client()
    app.is_active = False
    app.save()

    assert client.get(DETAILS, **bearer(tokens.access_token)).status_code == 401
    assert refresh(client, app, tokens.refresh_token).status_code in (400, 401)


def test_the_rate_limit_counts_per_app_and_person_across_tokens(person, stranger, app, settings):
    settings.APP_TOKEN_RATE_LIMIT = "3/min"
    tokens = sign_in_and_approve(person, app, "openid details")
    theirs = sign_in_and_approve(stranger, app, "openid details")
    client = Client()

    answers = [client.get(DETAILS, **bearer(tokens.access_token)).status_code for _ in range(3)]
    fresh = refresh(client, app, tokens.refresh_token).json()["access_token"]
    limited = client.get(DETAILS, **bearer(fresh))

    assert answers == [200, 200, 200]
    assert limited.status_code == 429  # a new token does not reset the count
    assert int(limited["Retry-After"]) >= 1
    assert client.get(DETAILS, **bearer(theirs.access_token)).status_code == 200  # another person's count


def test_a_refresh_token_lives_thirty_idle_days(person, app, settings):
    """A refresh token is dead 30 days (OAUTH_REFRESH_TOKEN_IDLE_SECONDS) after its access token
    expired; each refresh starts a new 30 days with the rotated pair."""
    assert settings.OAUTH_REFRESH_TOKEN_IDLE_SECONDS == 30 * 24 * 3600
    tokens = sign_in_and_approve(person, app, "openid details")
    client = Client()
    start = timezone.now()

    # The first access token expired at start + 10 minutes: a day short of 30 idle days.
    later = start + timedelta(days=29, minutes=10)
    with time_machine.travel(later, tick=False):
        kept = refresh(client, app, tokens.refresh_token)
    assert kept.status_code == 200
    # The rotated pair's access token expires at later + 10 minutes.
    with time_machine.travel(later + timedelta(days=30, minutes=10) - timedelta(seconds=1), tick=False):
        alive = refresh(client, app, kept.json()["refresh_token"])
    assert alive.status_code == 200
    with time_machine.travel(later + timedelta(days=60, minutes=20, seconds=1), tick=False):
        idle = refresh(client, app, alive.json()["refresh_token"])

    assert idle.status_code == 400
    assert idle.json()["error"] == "invalid_grant"


def test_beat_purges_dead_tokens_and_keeps_live_ones(person, app, settings):
    """`purge-expired-app-tokens` (hourly) runs django-oauth-toolkit's clean-up: a pair idle past
    its 30 days is deleted, a pair in use stays."""
    entry = settings.CELERY_BEAT_SCHEDULE["purge-expired-app-tokens"]
    assert entry["task"] == purge_expired_tokens.name
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        dead = sign_in_and_approve(person, app, "openid details")
    with time_machine.travel(start + timedelta(days=30), tick=False):
        live = sign_in_and_approve(person, app, "openid details")
    checksum = lambda token: hashlib.sha256(token.encode()).hexdigest()  # noqa: E731

    with time_machine.travel(start + timedelta(days=30, minutes=11), tick=False):
        purge_expired_tokens.delay()
        refresh_tokens = get_refresh_token_model().objects
        assert not refresh_tokens.filter(token_checksum=checksum(dead.refresh_token)).exists()
        assert refresh_tokens.filter(token_checksum=checksum(live.refresh_token)).exists()
        # The live pair's access token had expired a minute before: its refresh still works.
        assert refresh(Client(), app, live.refresh_token).status_code == 200
