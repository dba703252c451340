"""/api/v1/me/activities and /api/v1/me/sharings/{id}/revoke for a person's app (API.md "People's
apps"): the person's own activities, answered with the same services, rules, audit rows, receipts
and events as their consent pages; scope `inbox`; anyone else's activity is a 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.activities.models import Activity, ActivityStatus, ActivityType, ConsentReceipt, SharedSnapshot
from apps.audit.models import Transition
from tests.activities.conftest import make_party
from tests.factories import make_api_key
from tests.oauth.flow import bearer, register_app, sign_in_and_approve

pytestmark = pytest.mark.django_db

ME = "/api/v1/me"


@pytest.fixture
def app(db):
    return register_app()


@pytest.fixture
def eva_app(receptor, app):
    """Eva's app, with every scope she can give."""
    return Client(**bearer(sign_in_and_approve(receptor.person, app, "openid inbox sessions details").access_token))


@pytest.fixture
def ana_app(initiator, app):
    return Client(**bearer(sign_in_and_approve(initiator.person, app, "openid inbox").access_token))


def _reload(activity: Activity) -> Activity:
    return Activity.objects.get(pk=activity.pk)


def test_it_lists_the_persons_activities_as_they_see_them(eva_app, ana_app, make_activity, org):
    request = make_activity()
    shared = make_activity(ActivityType.SHARE)

    eva = eva_app.get(f"{ME}/activities").json()
    waiting = eva_app.get(f"{ME}/activities", {"status": "ACTION_REQUIRED"}).json()
    ana_sent = ana_app.get(f"{ME}/activities", {"status": "SENT"}).json()

    assert [a["id"] for a in eva["results"]] == [str(shared.pk), str(request.pk)]  # newest first
    first = eva["results"][1]
    assert first["status"] == "ACTION_REQUIRED"
    assert first["party"] == "receptor"
    assert first["organization"] == {"name": "Acme Bank"}
    assert first["counterpart"] == {"name": "Ana García"}
    assert first["requirements"] == [
        {"detail": "first_name", "required": True},
        {"detail": "date_of_birth", "required": False},
    ]
    assert {"next", "previous"} <= set(eva)
    assert [a["id"] for a in waiting["results"]] == [str(request.pk)]
    assert [a["id"] for a in ana_sent["results"]] == [str(request.pk)]
    assert ana_app.get(f"{ME}/activities", {"status": "ACTION_REQUIRED"}).json()["results"] == []


def test_it_refuses_an_unknown_filter(eva_app):
    response = eva_app.get(f"{ME}/activities", {"status": "PENDING"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


def test_it_accepts_like_the_consent_page(eva_app, make_activity, receptor):
    activity = make_activity()

    response = eva_app.post(
        f"{ME}/activities/{activity.pk}/accept",
        {"accepted_details": ["first_name"], "sharing_period": "P30D"},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "ACCEPTED"
    activity = _reload(activity)
    assert activity.status == ActivityStatus.ACCEPTED
    assert activity.accepted_details == ["first_name"]
    assert abs(activity.sharing_until - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    assert SharedSnapshot.objects.get(activity=activity).values == {"first_name": "Eva"}
    receipt = ConsentReceipt.objects.get(activity=activity)
    assert (receipt.person_id, receipt.details) == (receptor.person_id, ["first_name"])
    row = Transition.objects.filter(object_id=str(activity.pk)).latest("id")
    assert (row.event_type, row.from_state, row.to_state) == ("activity.status_changed", "PENDING", "ACCEPTED")
    assert (row.actor_type, row.actor_id, row.reason) == ("user", str(receptor.person_id), "accepted")
    assert row.published_at is None  # an organization's event, like the page's


def test_it_applies_the_services_rules(eva_app, make_activity):
    activity = make_activity()
    url = f"{ME}/activities/{activity.pk}/accept"

    dropped = eva_app.post(
        url, {"accepted_details": ["date_of_birth"], "sharing_period": "P1D"}, content_type="application/json"
    )
    no_period = eva_app.post(url, {"accepted_details": ["first_name"]}, content_type="application/json")
    unknown = eva_app.post(
        url, {"accepted_details": ["first_name"], "sharing_period": "P1D", "x": 1}, content_type="application/json"
    )

    assert dropped.status_code == 400 and dropped.json()["errors"][0]["field"] == "accepted_details"
    assert no_period.status_code == 400 and no_period.json()["errors"][0]["field"] == "sharing_period"
    assert unknown.status_code == 400
    assert _reload(activity).status == ActivityStatus.PENDING


def test_a_second_answer_is_a_conflict(eva_app, make_activity):
    activity = make_activity()
    eva_app.post(f"{ME}/activities/{activity.pk}/decline")

    again = eva_app.post(
        f"{ME}/activities/{activity.pk}/accept", {"sharing_period": "P1D"}, content_type="application/json"
    )

    assert again.status_code == 409
    assert _reload(activity).status == ActivityStatus.DECLINED


def test_it_declines(eva_app, make_activity, receptor):
    activity = make_activity()

    response = eva_app.post(f"{ME}/activities/{activity.pk}/decline")

    assert response.status_code == 200
    assert response.json()["status"] == "DECLINED"
    row = Transition.objects.filter(object_id=str(activity.pk)).latest("id")
    assert (row.to_state, row.actor_id, row.reason) == ("DECLINED", str(receptor.person_id), "declined")


def test_only_the_receptor_answers(ana_app, make_activity):
    activity = make_activity()

    for action in ("accept", "decline"):
        response = ana_app.post(f"{ME}/activities/{activity.pk}/{action}", {}, content_type="application/json")
        assert response.status_code == 403
        assert response.json()["errors"][0]["code"] == "not_receptor"
    assert _reload(activity).status == ActivityStatus.PENDING


def test_either_party_revokes_a_sharing(eva_app, ana_app, make_activity, initiator):
    shared = make_activity(ActivityType.SHARE)

    response = ana_app.post(f"{ME}/sharings/{shared.pk}/revoke")
    again = eva_app.post(f"{ME}/sharings/{shared.pk}/revoke")

    assert response.status_code == 200
    assert response.json()["status"] == "EXPIRED"
    assert not SharedSnapshot.objects.filter(activity=shared).exists()
    row = Transition.objects.filter(object_id=str(shared.pk)).latest("id")
    assert (row.to_state, row.actor_id, row.reason) == ("EXPIRED", str(initiator.person_id), "revoked")
    assert again.status_code == 409


def test_another_persons_activity_is_not_found(app, org, make_activity):
    outsider = make_party(org, "olga@example.com", first_name="Olga", last_name="Other")
    client = Client(**bearer(sign_in_and_approve(outsider.person, app, "openid inbox").access_token))
    activity = make_activity()
    shared = make_activity(ActivityType.SHARE)

    assert client.get(f"{ME}/activities/{activity.pk}").status_code == 404
    for url in (
        f"activities/{activity.pk}/accept",
        f"activities/{activity.pk}/decline",
        f"sharings/{shared.pk}/revoke",
    ):
        response = client.post(f"{ME}/{url}", {"sharing_period": "P1D"}, content_type="application/json")
        assert response.status_code == 404, url
    assert client.get(f"{ME}/activities").json()["results"] == []
    assert _reload(activity).status == ActivityStatus.PENDING
    assert _reload(shared).status == ActivityStatus.ACCEPTED


ENDPOINTS = [
    ("get", "activities", None),
    ("get", "activities/{id}", None),
    ("post", "activities/{id}/accept", {"accepted_details": ["first_name"], "sharing_period": "P1D"}),
    ("post", "activities/{id}/decline", None),
    ("post", "sharings/{shared}/revoke", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_every_endpoint_needs_the_inbox_scope(app, receptor, make_activity, method, path, body):
    activity = make_activity()
    shared = make_activity(
        ActivityType.SHARE, initiator=receptor, receptor=activity.initiator, offered_details=["first_name"]
    )
    url = f"{ME}/" + path.format(id=activity.pk, shared=shared.pk)
    without = Client(**bearer(sign_in_and_approve(receptor.person, app, "openid details sessions").access_token))

    refused = getattr(without, method)(url, body, content_type="application/json")
    allowed = getattr(Client(**bearer(sign_in_and_approve(receptor.person, app, "openid inbox").access_token)), method)(
        url, body, content_type="application/json"
    )

    assert refused.status_code == 403
    assert refused.json()["errors"][0]["code"] == "insufficient_scope"
    assert 'error="insufficient_scope"' in refused["WWW-Authenticate"]
    assert allowed.status_code == 200, allowed.content


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
def test_every_endpoint_refuses_api_keys_sessions_and_revoked_tokens(
    app, org, receptor, make_activity, method, path, body
):
    activity = make_activity()
    url = f"{ME}/" + path.format(id=activity.pk, shared=activity.pk)
    browser = Client()
    browser.force_login(receptor.person)
    tokens = sign_in_and_approve(receptor.person, app, "openid inbox")
    receptor.person.set_password("another-password-77")
    receptor.person.save()  # revokes every token

    for client in (
        Client(**bearer(make_api_key(org))),
        browser,
        Client(),
        Client(**bearer(tokens.access_token)),
    ):
        response = getattr(client, method)(url, body, content_type="application/json")
        assert response.status_code == 401, response.content
    assert _reload(activity).status == ActivityStatus.PENDING
