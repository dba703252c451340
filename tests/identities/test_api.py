"""The integrator API for external personal identities (API.md "Identities", seed 002)."""

from __future__ import annotations

import re
import uuid

import pytest
from django.core import mail
from django.test import Client

from apps.audit.models import ActorType, Transition
from apps.audit.selectors import transitions_for
from apps.audit.services import Actor, transition_apply
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import identity_activate
from apps.organizations.models import ApiKey, Scope
from tests.factories import make_api_key, make_identity, make_person

pytestmark = pytest.mark.django_db

BASE = "/api/v1/orgs/acme/external-personal-identities"
LINK = re.compile(r"http://testserver(/invitations/(?P<id>[0-9a-f-]{36})/(?P<token>[^/\s\"]+)/)")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
PAYLOAD = {"emailAddress": "ana@example.com", "firstName": "Ana", "lastName": "García", "managed": True}


def _fields(response) -> list[str]:
    return [item.get("field") for item in response.json()["errors"]]


def _links(messages) -> list[str]:
    return [m.group(1) for message in messages for m in [LINK.search(message.body)] if m]


def _invite(org, django_capture_on_commit_callbacks, **kwargs) -> tuple[ExternalPersonalIdentity, str]:
    """An INVITED identity and the path of the link its invitation email carries."""
    with django_capture_on_commit_callbacks(execute=True):
        identity = make_identity(org, **kwargs)
    return identity, _links(mail.outbox)[-1]


def _active(org, email: str = "ana@example.com") -> ExternalPersonalIdentity:
    identity = make_identity(org, email=email)
    return identity_activate(identity=identity, person=make_person(email=email))


def _deactivated(org, email: str = "ana@example.com") -> ExternalPersonalIdentity:
    return transition_apply(_active(org, email), "deactivate", actor=Actor.system("test"))


def _with_state(org, state: str) -> ExternalPersonalIdentity:
    return {"INVITED": make_identity, "ACTIVE": _active, "DEACTIVATED": _deactivated}[state](org)


@pytest.fixture
def scopeless_api(org, make_client):
    """The owner's organization, but a key without the identities scope."""
    return make_client(make_api_key(org, scopes=[Scope.ACTIVITIES]))


# --- Create -------------------------------------------------------------------------------


def test_it_creates_an_invited_identity(api, org):
    response = api.post(BASE, PAYLOAD, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "emailAddress", "firstName", "lastName", "managed", "state", "createdAt", "updatedAt"}
    assert body["state"] == "INVITED"
    assert body["emailAddress"] == "ana@example.com"
    assert (body["firstName"], body["lastName"], body["managed"]) == ("Ana", "García", True)
    assert TIMESTAMP.match(body["createdAt"]) and TIMESTAMP.match(body["updatedAt"])
    identity = ExternalPersonalIdentity.objects.get(pk=body["id"])
    assert identity.organization == org
    assert identity.state == IdentityState.INVITED


def test_it_creates_with_a_trailing_slash_too(api):
    response = api.post(f"{BASE}/", {**PAYLOAD, "managed": False}, format="json")

    assert response.status_code == 201
    assert response.json()["managed"] is False


# Fixed values: parametrize ids must be the same in every pytest-xdist worker.
@pytest.mark.parametrize(
    ("field", "value"), [("id", "5f0c6a3e-8d2b-4b7e-9a41-0c3d2e1f4a5b"), ("state", "ACTIVE"), ("state", "INVITED")]
)
def test_it_refuses_server_fields_on_create(api, field, value):
    response = api.post(BASE, {**PAYLOAD, field: value}, format="json")

    assert response.status_code == 400
    assert _fields(response) == [field]
    assert not ExternalPersonalIdentity.objects.exists()


@pytest.mark.parametrize("field", ["emailAddress", "firstName", "lastName", "managed"])
def test_it_requires_every_field(api, field):
    payload = {k: v for k, v in PAYLOAD.items() if k != field}

    response = api.post(BASE, payload, format="json")

    assert response.status_code == 400
    assert _fields(response) == [field]
    assert response.json()["errors"][0]["code"] == "required"
    assert not ExternalPersonalIdentity.objects.exists()


@pytest.mark.parametrize("name", ["\n" + "a" * 150, " " * 151, "a" * 151])
def test_it_counts_the_length_sent_against_the_schemas_max_length(api, name):
    # The schema says maxLength 150; whitespace DRF would trim is part of what was sent.
    response = api.post(BASE, {**PAYLOAD, "lastName": name}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["lastName"]
    assert response.json()["errors"][0]["code"] == "max_length"
    assert not ExternalPersonalIdentity.objects.exists()


def test_it_names_every_missing_field_at_once(api):
    response = api.post(BASE, {}, format="json")

    assert response.status_code == 400
    assert sorted(_fields(response)) == ["emailAddress", "firstName", "lastName", "managed"]


@pytest.mark.parametrize("email", ["not-an-email", "ana@", "@example.com", ""])
def test_it_rejects_a_bad_email(api, email):
    response = api.post(BASE, {**PAYLOAD, "emailAddress": email}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["emailAddress"]
    assert not ExternalPersonalIdentity.objects.exists()


def test_it_rejects_unknown_fields(api):
    response = api.post(BASE, {**PAYLOAD, "nickname": "Annie"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["nickname"]
    assert response.json()["errors"][0]["code"] == "unknown_field"
    assert not ExternalPersonalIdentity.objects.exists()


def test_it_rejects_a_non_boolean_managed(api):
    response = api.post(BASE, {**PAYLOAD, "managed": "perhaps"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["managed"]


@pytest.mark.parametrize("email", ["ana@example.com", "  ANA@Example.com "])
def test_it_refuses_a_duplicate_email_in_the_same_org(api, org, email):
    make_identity(org, email="ana@example.com")

    response = api.post(BASE, {**PAYLOAD, "emailAddress": email}, format="json")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "state_conflict"
    assert ExternalPersonalIdentity.objects.count() == 1


def test_it_allows_the_same_email_in_another_org(api, other_org):
    make_identity(other_org, email="ana@example.com")

    response = api.post(BASE, PAYLOAD, format="json")

    assert response.status_code == 201
    assert ExternalPersonalIdentity.objects.filter(organization__slug="acme").count() == 1


def test_it_emails_an_invitation_link(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(BASE, PAYLOAD, format="json")

    assert response.status_code == 201
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ana@example.com"]
    assert "Acme Bank" in message.subject
    match = LINK.search(message.body)
    assert match is not None
    assert match.group("id") == response.json()["id"]
    # The link in the email opens the invitation page.
    assert Client().get(match.group(1)).status_code == 200


def test_it_sends_no_invitation_when_the_create_fails(api, org, django_capture_on_commit_callbacks):
    make_identity(org)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(BASE, PAYLOAD, format="json")

    assert response.status_code == 409
    assert mail.outbox == []


def test_it_logs_the_creation_once(api, org):
    response = api.post(BASE, PAYLOAD, format="json")

    identity = ExternalPersonalIdentity.objects.get(pk=response.json()["id"])
    rows = list(transitions_for(identity))
    assert len(rows) == 1
    key = ApiKey.objects.get(organization=org)
    assert (rows[0].from_state, rows[0].to_state) == ("", "INVITED")
    assert (rows[0].actor_type, rows[0].actor_id) == (ActorType.API_KEY, str(key.pk))
    assert rows[0].organization == org
    # Events carry ids and states, never personal values.
    assert "ana@example.com" not in str(rows[0].data)


# --- Authentication, scope and tenancy ------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "post"])
def test_it_needs_a_key(org, make_client, method):
    response = getattr(make_client(None), method)(BASE, PAYLOAD, format="json")

    assert response.status_code == 401
    assert not ExternalPersonalIdentity.objects.exists()


def test_it_refuses_a_bad_key(org, make_client):
    response = make_client("ipk_nope_nope").get(BASE)

    assert response.status_code == 401


def test_it_needs_the_identities_scope(scopeless_api, org):
    identity = _active(org)

    assert scopeless_api.get(BASE).status_code == 403
    assert scopeless_api.get(f"{BASE}/{identity.pk}").status_code == 403
    assert scopeless_api.post(BASE, {**PAYLOAD, "emailAddress": "x@example.com"}, format="json").status_code == 403
    response = scopeless_api.patch(f"{BASE}/{identity.pk}", {"state": "DEACTIVATED"}, format="json")
    assert response.status_code == 403
    assert scopeless_api.post(f"{BASE}/{identity.pk}/resend-invitation").status_code == 403
    identity.refresh_from_db()
    assert identity.state == IdentityState.ACTIVE
    assert ExternalPersonalIdentity.objects.count() == 1


def test_it_hides_another_orgs_path_from_outsiders(outsider_api, org):
    identity = _active(org)

    for response in (
        outsider_api.get(BASE),
        outsider_api.get(f"{BASE}/{identity.pk}"),
        outsider_api.post(BASE, PAYLOAD, format="json"),
        outsider_api.patch(f"{BASE}/{identity.pk}", {"state": "DEACTIVATED"}, format="json"),
    ):
        assert response.status_code == 404
        assert "ana@example.com" not in response.content.decode()
    identity.refresh_from_db()
    assert identity.state == IdentityState.ACTIVE


def test_it_does_not_find_another_orgs_identity_through_ones_own_path(outsider_api, org, other_org):
    identity = _active(org)
    own = "/api/v1/orgs/globex/external-personal-identities"

    responses = [
        outsider_api.get(f"{own}/{identity.pk}"),
        outsider_api.patch(f"{own}/{identity.pk}", {"firstName": "Eve", "state": "DEACTIVATED"}, format="json"),
        outsider_api.post(f"{own}/{identity.pk}/resend-invitation"),
    ]

    for response in responses:
        assert response.status_code == 404
        body = response.json()
        assert set(body) == {"errors"}
        assert "ana@example.com" not in response.content.decode()
        assert str(identity.pk) not in response.content.decode()
    identity.refresh_from_db()
    assert (identity.first_name, identity.state) == ("Ana", IdentityState.ACTIVE)


# --- Read -------------------------------------------------------------------------------------


def test_it_gets_one_identity(api, org):
    identity = _active(org)

    response = api.get(f"{BASE}/{identity.pk}")

    assert response.status_code == 200
    assert response.json() == {
        "id": str(identity.pk),
        "emailAddress": "ana@example.com",
        "firstName": "Ana",
        "lastName": "García",
        "managed": True,
        "state": "ACTIVE",
        "createdAt": identity.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updatedAt": identity.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def test_it_answers_404_for_an_unknown_id(api, org):
    response = api.get(f"{BASE}/{uuid.uuid4()}")

    assert response.status_code == 404
    assert response.json()["errors"][0]["code"] == "not_found"


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "123", "1' OR '1'='1"])
def test_it_answers_json_404_for_a_malformed_id(api, org, bad_id):
    response = api.get(f"{BASE}/{bad_id}")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["errors"][0]["code"] == "not_found"


def test_it_lists_the_orgs_identities(api, org, other_org):
    make_identity(org, email="a@example.com")
    make_identity(org, email="b@example.com")
    make_identity(other_org, email="c@example.com")

    response = api.get(BASE)

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "next", "previous"}
    assert sorted(item["emailAddress"] for item in body["results"]) == ["a@example.com", "b@example.com"]
    assert body["next"] is None and body["previous"] is None


@pytest.mark.parametrize("state", ["INVITED", "ACTIVE", "DEACTIVATED"])
def test_it_filters_the_list_by_state(api, org, state):
    make_identity(org, email="invited@example.com")
    _active(org, email="active@example.com")
    _deactivated(org, email="deactivated@example.com")

    response = api.get(BASE, {"state": state})

    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["emailAddress"] for item in results] == [f"{state.lower()}@example.com"]
    assert results[0]["state"] == state


@pytest.mark.parametrize("state", ["active", "PENDING", "1"])
def test_it_rejects_an_invalid_state_filter(api, org, state):
    response = api.get(BASE, {"state": state})

    assert response.status_code == 400
    assert _fields(response) == ["state"]


def test_it_pages_the_list(api, org):
    emails = {f"p{i}@example.com" for i in range(3)}
    for email in emails:
        make_identity(org, email=email)

    first = api.get(BASE, {"page_size": 2}).json()
    assert len(first["results"]) == 2
    assert first["next"] is not None and first["previous"] is None
    second = api.get(first["next"]).json()
    assert len(second["results"]) == 1
    assert second["next"] is None and second["previous"] is not None

    seen = {item["emailAddress"] for item in first["results"] + second["results"]}
    assert seen == emails


@pytest.mark.parametrize("page_size", ["0", "101", "many"])
def test_it_rejects_a_bad_page_size(api, org, page_size):
    response = api.get(BASE, {"page_size": page_size})

    assert response.status_code == 400
    assert _fields(response) == ["page_size"]


# --- Update -----------------------------------------------------------------------------------


def test_it_changes_names_and_email(api, org):
    identity = _active(org)

    response = api.patch(
        f"{BASE}/{identity.pk}",
        {"firstName": "Anna", "lastName": "Gómez", "emailAddress": "Anna@Example.com"},
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["firstName"], body["lastName"], body["emailAddress"]) == ("Anna", "Gómez", "anna@example.com")
    assert body["state"] == "ACTIVE"
    identity.refresh_from_db()
    assert (identity.first_name, identity.last_name, identity.email_address) == ("Anna", "Gómez", "anna@example.com")
    assert api.get(f"{BASE}/{identity.pk}").json()["firstName"] == "Anna"


def test_it_refuses_an_email_taken_by_another_identity(api, org):
    make_identity(org, email="taken@example.com")
    identity = _active(org)

    response = api.patch(f"{BASE}/{identity.pk}", {"emailAddress": "taken@example.com"}, format="json")

    assert response.status_code == 409
    identity.refresh_from_db()
    assert identity.email_address == "ana@example.com"


def test_it_deactivates_an_active_identity(api, org):
    identity = _active(org)

    response = api.patch(f"{BASE}/{identity.pk}", {"state": "DEACTIVATED"}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "DEACTIVATED"
    identity.refresh_from_db()
    assert identity.state == IdentityState.DEACTIVATED
    last = transitions_for(identity).last()
    key = ApiKey.objects.get(organization=org)
    assert (last.from_state, last.to_state) == ("ACTIVE", "DEACTIVATED")
    assert (last.actor_type, last.actor_id) == (ActorType.API_KEY, str(key.pk))
    assert last.event_type == "identity.state_changed"


def test_it_reactivates_a_deactivated_identity(api, org):
    identity = _deactivated(org)

    response = api.patch(f"{BASE}/{identity.pk}", {"state": "ACTIVE"}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == "ACTIVE"
    identity.refresh_from_db()
    assert identity.state == IdentityState.ACTIVE
    last = transitions_for(identity).last()
    assert (last.from_state, last.to_state) == ("DEACTIVATED", "ACTIVE")


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("INVITED", "ACTIVE"),
        ("INVITED", "DEACTIVATED"),
        ("ACTIVE", "INVITED"),
        ("DEACTIVATED", "INVITED"),
    ],
)
def test_it_refuses_other_state_changes(api, org, current, target):
    identity = _with_state(org, current)
    rows_before = Transition.objects.count()

    response = api.patch(f"{BASE}/{identity.pk}", {"state": target, "firstName": "Changed"}, format="json")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "state_conflict"
    identity.refresh_from_db()
    assert identity.state == current
    assert identity.first_name == "Ana"
    assert Transition.objects.count() == rows_before


@pytest.mark.parametrize("state", ["INVITED", "ACTIVE", "DEACTIVATED"])
def test_it_treats_the_same_state_as_a_no_op(api, org, state):
    identity = _with_state(org, state)
    rows_before = Transition.objects.count()

    response = api.patch(f"{BASE}/{identity.pk}", {"state": state}, format="json")

    assert response.status_code == 200
    assert response.json()["state"] == state
    assert Transition.objects.count() == rows_before


def test_it_rejects_an_unknown_state(api, org):
    identity = _active(org)

    response = api.patch(f"{BASE}/{identity.pk}", {"state": "SUSPENDED"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["state"]


@pytest.mark.parametrize("field", ["id", "createdAt", "updatedAt", "organization"])
def test_it_refuses_read_only_or_unknown_fields_on_update(api, org, field):
    identity = _active(org)

    response = api.patch(f"{BASE}/{identity.pk}", {field: "x", "firstName": "Changed"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == [field]
    identity.refresh_from_db()
    assert identity.first_name == "Ana"


def test_it_never_changes_managed(api, org):
    identity = _active(org)  # managed=True

    response = api.patch(f"{BASE}/{identity.pk}", {"managed": False, "firstName": "Changed"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["managed"]
    identity.refresh_from_db()
    assert identity.managed is True
    assert identity.first_name == "Ana"


def test_it_changes_nothing_when_managed_comes_with_a_legal_state_change(api, org):
    identity = _active(org)
    rows_before = Transition.objects.count()

    response = api.patch(f"{BASE}/{identity.pk}", {"managed": False, "state": "DEACTIVATED"}, format="json")

    assert response.status_code == 400
    assert _fields(response) == ["managed"]
    identity.refresh_from_db()
    assert identity.state == IdentityState.ACTIVE
    assert identity.managed is True
    assert Transition.objects.count() == rows_before


def test_it_accepts_managed_unchanged(api, org):
    identity = _active(org)

    response = api.patch(f"{BASE}/{identity.pk}", {"managed": True, "lastName": "Gómez"}, format="json")

    assert response.status_code == 200
    assert (response.json()["managed"], response.json()["lastName"]) == (True, "Gómez")


def test_it_reinvites_when_the_email_of_an_invited_identity_changes(api, org, django_capture_on_commit_callbacks):
    identity, old_link = _invite(org, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"{BASE}/{identity.pk}", {"emailAddress": "new@example.com"}, format="json")

    assert response.status_code == 200
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    new_link = _links(mail.outbox)[0]
    assert new_link != old_link
    assert Client().get(old_link).status_code == 410
    assert Client().get(new_link).status_code == 200


def test_it_sends_no_invitation_when_an_active_identitys_email_changes(api, org, django_capture_on_commit_callbacks):
    identity = _active(org)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"{BASE}/{identity.pk}", {"emailAddress": "new@example.com"}, format="json")

    assert response.status_code == 200
    assert mail.outbox == []


# --- Resend invitation ----------------------------------------------------------------------


def test_it_resends_the_invitation(api, org, django_capture_on_commit_callbacks):
    identity, old_link = _invite(org, django_capture_on_commit_callbacks)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}/{identity.pk}/resend-invitation")

    assert response.status_code == 204
    assert response.content == b""
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["ana@example.com"]
    new_link = _links(mail.outbox)[0]
    assert new_link != old_link
    assert Client().get(old_link).status_code == 410
    assert Client().get(new_link).status_code == 200
    identity.refresh_from_db()
    assert identity.invitation_count == 2


@pytest.mark.parametrize("state", ["ACTIVE", "DEACTIVATED"])
def test_it_resends_only_while_invited(api, org, state, django_capture_on_commit_callbacks):
    identity = _with_state(org, state)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(f"{BASE}/{identity.pk}/resend-invitation")

    assert response.status_code == 409
    assert response.json()["errors"][0]["code"] == "state_conflict"
    assert mail.outbox == []


def test_it_answers_404_when_resending_for_an_unknown_identity(api, org):
    response = api.post(f"{BASE}/{uuid.uuid4()}/resend-invitation")

    assert response.status_code == 404
