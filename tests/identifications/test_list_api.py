"""GET /orgs/{org_id}/identifications/otp (API.md "OTP identifications", revised contract): newest
first, filters `status`, `created_after`, `created_before`, paginated like every list."""

from __future__ import annotations

import base64
from datetime import timedelta
from urllib.parse import urlencode

import pytest
import time_machine
from django.utils import timezone

from apps.audit.services import Actor
from apps.identifications.models import OtpIdentification
from apps.identifications.services import ActorData, identification_cancel, identification_create
from apps.organizations.models import DEFAULT_SCOPES, Scope
from tests.factories import make_api_key
from tests.identifications.conftest import BASE

pytestmark = pytest.mark.django_db

# A recent hour: the identifications made then are still open now (they last a day).
NOON = timezone.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


def _at(delta: timedelta, offset: str = "Z") -> str:
    """NOON + delta as an ISO-8601 timestamp, written with the UTC offset `offset`."""
    when = NOON + delta
    if offset != "Z":
        sign, hours = (1 if offset[0] == "+" else -1), int(offset[1:3])
        when += timedelta(hours=sign * hours)
        return when.replace(tzinfo=None).isoformat() + offset
    return when.replace(tzinfo=None).isoformat() + "Z"


def _make(org, n: int, *, expires_in: timedelta = timedelta(days=1)) -> OtpIdentification:
    return identification_create(
        organization=org,
        actor_data=ActorData(name=f"Actor{n}", surname="Lind", email=f"actor{n}@example.com"),
        channel="EMAIL",
        expires_in=expires_in,
        actor=Actor.system("test"),
    )


def _cursor(position: str) -> str:
    """A cursor as the paginator encodes one (DRF's base64 query string), holding `position`."""
    return base64.b64encode(urlencode({"p": position}).encode()).decode()


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [item["id"] for item in response.json()["results"]]


def _walk(api, url: str, params: dict | None = None) -> list[str]:
    """Every id of a list, following `next` links to the end."""
    ids: list[str] = []
    response = api.get(url, params or {})
    while True:
        ids += _ids(response)
        following = response.json()["next"]
        if following is None:
            return ids
        response = api.get(following)


def test_it_lists_identifications_newest_first_each_as_get_one_shows_it(api, org):
    made = []
    for n in range(3):
        with time_machine.travel(NOON + timedelta(minutes=n), tick=False):
            made.append(_make(org, n))

    response = api.get(BASE)

    assert _ids(response) == [str(i.pk) for i in reversed(made)]
    assert set(response.json()) == {"results", "next", "previous"}
    for item in response.json()["results"]:
        assert item == api.get(f"{BASE}/{item['id']}").json()


def test_it_filters_by_status(api, org):
    canceled, open_one = _make(org, 1), _make(org, 2)
    identification_cancel(identification=canceled, reason="wrong person", actor=Actor.system("test"))

    assert _ids(api.get(BASE, {"status": "CANCELED"})) == [str(canceled.pk)]
    assert _ids(api.get(BASE, {"status": "CREATED"})) == [str(open_one.pk)]
    assert _ids(api.get(BASE, {"status": "IDENTIFIED"})) == []


def test_an_overdue_open_identification_is_listed_as_expired_never_as_created(api, org):
    overdue = _make(org, 1, expires_in=timedelta(minutes=5))
    fresh = _make(org, 2)

    with time_machine.travel(timezone.now() + timedelta(minutes=10), tick=False):
        created = _ids(api.get(BASE, {"status": "CREATED"}))
        expired = api.get(BASE, {"status": "EXPIRED"})

    assert created == [str(fresh.pk)]
    assert _ids(expired) == [str(overdue.pk)]
    assert expired.json()["results"][0]["status"] == "EXPIRED"
    overdue.refresh_from_db()
    assert overdue.status == "EXPIRED"  # the read-time guard, as on GET one


def test_created_after_is_inclusive_and_created_before_exclusive(api, org):
    times = [NOON - timedelta(hours=1), NOON, NOON + timedelta(hours=1)]
    made = []
    for n, when in enumerate(times):
        with time_machine.travel(when, tick=False):
            made.append(str(_make(org, n).pk))

    assert _ids(api.get(BASE, {"created_after": _at(timedelta(0))})) == [made[2], made[1]]
    assert _ids(api.get(BASE, {"created_before": _at(timedelta(0))})) == [made[0]]
    # Offsets are read as such: 30 minutes before NOON written in +01:00, NOON + 1 h in -02:00.
    window = {
        "created_after": _at(-timedelta(minutes=30), "+01:00"),
        "created_before": _at(timedelta(hours=1), "-02:00"),
    }
    assert _ids(api.get(BASE, window)) == [made[1]]
    assert _ids(api.get(BASE, {"created_after": _at(timedelta(hours=1)), "status": "CREATED"})) == [made[2]]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"created_after": "23/11/2026"}, "created_after"),
        ({"created_after": "2026-13-01T00:00:00Z"}, "created_after"),
        ({"created_before": "last week"}, "created_before"),
        ({"created_before": ""}, "created_before"),
        ({"created_after": "9999-12-31T23:59:59-05:00"}, "created_after"),
        ({"created_after": "2026-11-24T00:00:00Z", "created_before": "2026-11-23T00:00:00Z"}, "created_before"),
        ({"status": "DELETED"}, "status"),
        ({"status": "created"}, "status"),
        ({"created_since": "2026-11-23T00:00:00Z"}, "created_since"),
        ({"page_size": "0"}, "page_size"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": _cursor("2026-11-23T12:00:00|00000000-0000-4000-8000-000000000000")}, "cursor"),  # no offset
        ({"cursor": _cursor("2026-11-23T12:00:00+00:00|not-a-uuid")}, "cursor"),  # an id that is no id
    ],
)
def test_a_malformed_filter_is_a_400_naming_the_field(api, org, params, field):
    _make(org, 1)

    response = api.get(BASE, params)

    assert response.status_code == 400
    assert [e.get("field") for e in response.json()["errors"]] == [field]
    assert response.json()["errors"][0]["message"]


def test_another_organizations_identifications_are_never_listed(api, outsider_api, org, other_org):
    mine = _make(org, 1)
    theirs = _make(other_org, 2)

    assert _ids(api.get(BASE)) == [str(mine.pk)]
    assert _ids(outsider_api.get("/api/v1/orgs/globex/identifications/otp")) == [str(theirs.pk)]
    assert outsider_api.get(BASE).status_code == 404
    assert "actor1@example.com" not in outsider_api.get("/api/v1/orgs/globex/identifications/otp").content.decode()


def test_it_needs_the_identifications_scope(org, make_client):
    client = make_client(make_api_key(org, scopes=[s for s in DEFAULT_SCOPES if s != Scope.IDENTIFICATIONS]))

    response = client.get(BASE)

    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "missing_scope"


def test_pages_are_stable_when_identifications_share_a_creation_instant(api, org):
    """Cursor pagination on (created_at, id): seven rows created in the same microsecond come
    out once each, in the same order page by page, and `previous` goes back to the same page."""
    with time_machine.travel(NOON, tick=False):
        made = {str(_make(org, n).pk) for n in range(7)}

    walked = _walk(api, BASE, {"page_size": 3})
    assert sorted(walked) == sorted(made)
    assert len(walked) == len(set(walked)) == 7
    assert walked == _walk(api, BASE, {"page_size": 2})  # one order, whatever the page size

    first = api.get(BASE, {"page_size": 3}).json()
    second = api.get(first["next"]).json()
    back = api.get(second["previous"]).json()
    assert [i["id"] for i in back["results"]] == [i["id"] for i in first["results"]]


def test_new_identifications_do_not_shift_the_pages_already_walked(api, org):
    for n in range(4):
        with time_machine.travel(NOON + timedelta(seconds=n), tick=False):
            _make(org, n)
    first = api.get(BASE, {"page_size": 2}).json()

    _make(org, 99)  # newer than every row: it belongs before page one, not on page two
    second = api.get(first["next"]).json()

    assert len({i["id"] for i in first["results"]} | {i["id"] for i in second["results"]}) == 4
    assert second["next"] is None


def test_a_cursor_encoded_like_the_pages_own_is_followed(api, org):
    """Control for the malformed cursors above: the same encoding with a real position works."""
    with time_machine.travel(NOON, tick=False):
        older = _make(org, 1)
    with time_machine.travel(NOON + timedelta(seconds=1), tick=False):
        newer = _make(org, 2)

    response = api.get(BASE, {"cursor": _cursor(f"{newer.created_at.isoformat()}|{newer.pk}")})

    assert _ids(response) == [str(older.pk)]
