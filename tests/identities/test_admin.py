"""The back office for identities: list, filter, search, transition buttons, audit trail."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission

from apps.audit.models import ActorType
from apps.audit.selectors import transitions_for
from apps.audit.services import Actor, transition_apply
from apps.identities.models import ExternalPersonalIdentity, IdentityState
from apps.identities.services import identity_activate
from apps.organizations.models import Membership
from apps.people.models import User
from tests.factories import make_identity, make_person, staff_login

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/identities/externalpersonalidentity/"


class _FormFields(HTMLParser):
    """What a browser would submit from the page's change form (without a submit button)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: dict[str, str] = {}
        self.buttons: list[tuple[str, str, str]] = []  # (name, value, label)
        self._in_form = False
        self._select: str | None = None
        self._textarea: str | None = None
        self._button: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id", "").endswith("_form"):
            self._in_form = True
        if not self._in_form or "disabled" in a:
            return
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "button", "image", "file"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.data[a["name"]] = a.get("value", "on" if a.get("type") == "checkbox" else "")
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.data.setdefault(a["name"], "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.data[a["name"]] = ""
        elif tag == "button":
            self._button = {"name": a.get("name", ""), "value": a.get("value", ""), "label": ""}

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data
        if self._button is not None:
            self._button["label"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "button" and self._button is not None:
            self.buttons.append((self._button["name"], self._button["value"], self._button["label"].strip()))
            self._button = None


def _parse(response) -> _FormFields:
    parser = _FormFields()
    parser.feed(response.content.decode())
    return parser


def _transition_buttons(response) -> dict[str, str]:
    return {value: label for name, value, label in _parse(response).buttons if name == "_fsm_transition_to"}


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("admin@example.com", "admin-pass-123")


@pytest.fixture
def staff(client, superuser):
    staff_login(client, superuser)
    return client


def _active(org, email: str = "ana@example.com") -> ExternalPersonalIdentity:
    identity = make_identity(org, email=email)
    return identity_activate(identity=identity, person=make_person(email=email))


def _results(response) -> set[str]:
    return {identity.email_address for identity in response.context["cl"].result_list}


def test_it_lists_identities(staff, org, other_org):
    make_identity(org, email="a@example.com")
    make_identity(other_org, email="b@example.com")

    response = staff.get(CHANGELIST)

    assert response.status_code == 200
    assert _results(response) == {"a@example.com", "b@example.com"}


def test_it_filters_the_list(staff, org, other_org):
    make_identity(org, email="invited@example.com")
    _active(org, email="active@example.com")
    make_identity(other_org, email="outsider@example.com", managed=False)

    assert _results(staff.get(CHANGELIST, {"state__exact": "ACTIVE"})) == {"active@example.com"}
    assert _results(staff.get(CHANGELIST, {"state__exact": "INVITED"})) == {
        "invited@example.com",
        "outsider@example.com",
    }
    assert _results(staff.get(CHANGELIST, {"managed__exact": "0"})) == {"outsider@example.com"}
    assert _results(staff.get(CHANGELIST, {"organization__id__exact": str(other_org.pk)})) == {"outsider@example.com"}


@pytest.mark.parametrize("term", ["ana@example.com", " ANA@Example.com "])
def test_it_finds_an_identity_by_its_exact_email(staff, org, term):
    make_identity(org, email="ana@example.com")
    make_identity(org, email="bob@example.com")

    response = staff.get(CHANGELIST, {"q": term})

    assert response.status_code == 200
    assert _results(response) == {"ana@example.com"}


def test_it_does_not_match_part_of_an_email(staff, org):
    make_identity(org, email="ana@example.com")

    assert _results(staff.get(CHANGELIST, {"q": "na@example.com"})) == set()


def test_it_shows_deactivate_and_not_activate_for_an_active_identity(staff, org):
    identity = _active(org)

    response = staff.get(f"{CHANGELIST}{identity.pk}/change/")

    assert response.status_code == 200
    assert _transition_buttons(response) == {"deactivate": "Deactivate"}


def test_it_shows_reactivate_for_a_deactivated_identity(staff, org):
    identity = transition_apply(_active(org), "deactivate", actor=Actor.system("test"))

    response = staff.get(f"{CHANGELIST}{identity.pk}/change/")

    assert _transition_buttons(response) == {"reactivate": "Reactivate"}


def test_it_offers_no_button_to_activate_an_invited_identity(staff, org):
    # Only the person activates, through their invitation.
    identity = make_identity(org)

    response = staff.get(f"{CHANGELIST}{identity.pk}/change/")

    assert response.status_code == 200
    assert _transition_buttons(response) == {}


def test_it_deactivates_with_the_button_and_logs_the_staff_member(staff, superuser, org):
    identity = _active(org)
    page = staff.get(f"{CHANGELIST}{identity.pk}/change/")
    data = {**_parse(page).data, "_fsm_transition_to": "deactivate"}

    to_form = staff.post(f"{CHANGELIST}{identity.pk}/change/", data)
    assert to_form.status_code == 302, to_form.context and to_form.context["adminform"].form.errors
    assert to_form["Location"] == f"{CHANGELIST}{identity.pk}/transition/deactivate/"
    response = staff.post(to_form["Location"], {"reason": "The customer closed the account"})

    assert response.status_code == 302
    assert response["Location"].startswith(f"{CHANGELIST}{identity.pk}/change/")
    identity.refresh_from_db()
    assert identity.state == IdentityState.DEACTIVATED
    rows = [t for t in transitions_for(identity) if t.to_state == "DEACTIVATED"]
    assert len(rows) == 1
    assert rows[0].from_state == "ACTIVE"
    assert (rows[0].actor_type, rows[0].actor_id) == (ActorType.USER, str(superuser.pk))
    assert rows[0].reason == "The customer closed the account"

    after = staff.get(response["Location"])
    assert _transition_buttons(after) == {"reactivate": "Reactivate"}


def test_it_refuses_a_transition_the_state_does_not_allow(staff, org):
    identity = make_identity(org)
    page = staff.get(f"{CHANGELIST}{identity.pk}/change/")
    before = transitions_for(identity).count()

    staff.post(f"{CHANGELIST}{identity.pk}/change/", {**_parse(page).data, "_fsm_transition_to": "deactivate"})

    identity.refresh_from_db()
    assert identity.state == IdentityState.INVITED
    assert transitions_for(identity).count() == before


def test_it_shows_the_audit_trail_inline(staff, org):
    identity = transition_apply(_active(org), "deactivate", actor=Actor.system("night sweep"))

    response = staff.get(f"{CHANGELIST}{identity.pk}/change/")

    html = response.content.decode()
    assert "Audit trail" in html
    assert "night sweep" in html
    (inline,) = response.context["inline_admin_formsets"]
    shown = [(form.instance.from_state, form.instance.to_state) for form in inline.formset.forms]
    assert shown == [("", "INVITED"), ("INVITED", "ACTIVE"), ("ACTIVE", "DEACTIVATED")]


def test_it_does_not_add_identities_in_the_back_office(staff, org):
    assert staff.get(f"{CHANGELIST}add/").status_code == 403


def test_it_shows_no_transition_to_staff_without_change_permission(client, org):
    viewer = User.objects.create_user("viewer@example.com", "viewer-pass-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_externalpersonalidentity"))
    Membership.objects.create(organization=org, user=viewer)
    staff_login(client, viewer)
    identity = _active(org)

    response = client.get(f"{CHANGELIST}{identity.pk}/change/")

    assert response.status_code == 200
    assert _transition_buttons(response) == {}


def test_it_keeps_the_back_office_from_people_who_are_not_staff(client, org):
    client.force_login(make_person(email="someone@example.com"))

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
