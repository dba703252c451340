"""/me/details/: a person edits their self-declared details; verified ones stay as verified."""

from __future__ import annotations

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from apps.people.models import DetailSource, PersonalDetail
from apps.people.services import DetailNotEditable, person_details_update, person_set_details
from tests.factories import make_person

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-9"
PROCESS_ID = uuid.UUID("6b0d8b0e-2f4a-4d7e-9a55-0c1f3f7f1a11")


@pytest.fixture
def eva():
    person = make_person("eva@example.com", PASSWORD, first_name="Eva", nationality="NLD")
    person_set_details(
        person=person,
        details={"last_name": "Smit", "date_of_birth": "1985-12-24"},
        source=DetailSource.VERIFIED,
        process_id=str(PROCESS_ID),
        provider="onfido",
    )
    return person


def _values(person) -> dict[str, tuple[str, str]]:
    return {d.name: (d.value, d.source) for d in PersonalDetail.objects.filter(person=person)}


def _signed_in(client: Client, person) -> Client:
    client.force_login(person)
    return client


# --- The service ------------------------------------------------------------------------


def test_it_changes_adds_and_removes_self_declared_details(eva):
    person_details_update(
        person=eva, details={"first_name": "Eva María", "phone": "+31 6 1234 5678", "nationality": ""}
    )

    values = _values(eva)
    assert values["first_name"] == ("Eva María", DetailSource.SELF_DECLARED)
    assert values["phone"] == ("+31612345678", DetailSource.SELF_DECLARED)  # normalised by the vocabulary
    assert "nationality" not in values
    assert values["last_name"] == ("Smit", DetailSource.VERIFIED)


def test_it_refuses_to_change_a_verified_detail_and_writes_nothing(eva):
    with pytest.raises(DetailNotEditable) as caught:
        person_details_update(person=eva, details={"first_name": "Evi", "last_name": "Jansen"})

    assert list(caught.value.message_dict) == ["last_name"]
    values = _values(eva)
    assert values["last_name"] == ("Smit", DetailSource.VERIFIED)
    assert values["first_name"] == ("Eva", DetailSource.SELF_DECLARED)


def test_it_refuses_to_remove_a_verified_detail(eva):
    with pytest.raises(DetailNotEditable):
        person_details_update(person=eva, details={"date_of_birth": ""})

    assert _values(eva)["date_of_birth"] == ("1985-12-24", DetailSource.VERIFIED)


def test_it_keeps_the_provenance_of_verified_details_when_others_change(eva):
    person_details_update(person=eva, details={"first_name": "Eve", "last_name": "Smit"})

    verified = PersonalDetail.objects.get(person=eva, name="last_name")
    assert verified.source == DetailSource.VERIFIED
    assert verified.verified_by_provider == "onfido"
    assert verified.verified_by_process_id == PROCESS_ID


@pytest.mark.parametrize(
    ("name", "value"),
    [("date_of_birth_unknown", "x"), ("nationality", "Dutch"), ("phone", "0612"), ("gender", "female")],
)
def test_it_refuses_invalid_values_per_the_vocabulary(eva, name, value):
    with pytest.raises(ValidationError) as caught:
        person_details_update(person=eva, details={"first_name": "Changed", name: value})

    assert name in caught.value.message_dict
    assert _values(eva)["first_name"] == ("Eva", DetailSource.SELF_DECLARED)  # all or nothing


# --- The page ---------------------------------------------------------------------------


def test_the_page_needs_sign_in(client):
    response = client.get("/me/details/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_page_shows_verified_details_read_only_and_self_declared_ones_editable(client, eva):
    html = _signed_in(client, eva).get("/me/details/").content.decode()

    assert 'name="first_name"' in html and 'value="Eva"' in html
    last_name = html[html.index('id="id_last_name"') - 200 : html.index('id="id_last_name"') + 50]
    assert "disabled" in last_name
    assert "Verified: only a new verification changes it." in html
    assert 'name="csrfmiddlewaretoken"' in html


def test_the_page_saves_self_declared_details_and_returns_to_me(client, eva):
    response = _signed_in(client, eva).post(
        "/me/details/",
        {"first_name": "Eva María", "nationality": "esp", "email": "eva@example.org", "date_of_birth": "2000-01-01"},
    )

    assert response.status_code == 302
    assert response["Location"] == "/me/"
    values = _values(eva)
    assert values["first_name"] == ("Eva María", DetailSource.SELF_DECLARED)
    assert values["nationality"] == ("ESP", DetailSource.SELF_DECLARED)
    assert values["email"] == ("eva@example.org", DetailSource.SELF_DECLARED)
    # A posted value for a verified (disabled) field is ignored.
    assert values["date_of_birth"] == ("1985-12-24", DetailSource.VERIFIED)
    assert "Your details have been saved." in client.get("/me/").content.decode()


def test_the_page_shows_clear_errors_and_keeps_what_was_typed(client, eva):
    response = _signed_in(client, eva).post("/me/details/", {"first_name": "Eva", "phone": "call me", "gender": "Q"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Enter the number in international form, for example +34600000000." in html
    assert "Choose one of the options." in html
    assert 'value="call me"' in html
    assert 'aria-invalid="true"' in html
    assert "phone" not in _values(eva)


def test_the_page_refuses_a_post_without_csrf_token(eva):
    client = Client(enforce_csrf_checks=True)
    client.force_login(eva)

    response = client.post("/me/details/", {"first_name": "Mallory"})

    assert response.status_code == 403
    assert _values(eva)["first_name"] == ("Eva", DetailSource.SELF_DECLARED)


def test_me_shows_each_detail_with_its_provenance(client, eva):
    html = _signed_in(client, eva).get("/me/").content.decode()

    assert "by Onfido on" in html
    assert str(PROCESS_ID) not in html  # no process ids on a person's page
    assert html.count('data-source="verified"') == 2
    assert html.count('data-source="self_declared"') == 2
    assert 'href="/me/details/"' in html


def test_a_saved_time_zone_wins_over_the_browsers(client, eva):
    client = _signed_in(client, eva)
    client.cookies["tz"] = "America/Bogota"

    response = client.post("/me/details/", {"first_name": "Eva", "time_zone": "Asia/Tokyo"})

    assert response.status_code == 302
    eva.refresh_from_db()
    assert eva.time_zone == "Asia/Tokyo"
    html = client.get("/me/details/").content.decode()
    assert '<option value="Asia/Tokyo" selected>Asia/Tokyo</option>' in html
    assert client.post("/me/details/", {"first_name": "Eva", "time_zone": "Mars/Olympus"}).status_code == 400
    eva.refresh_from_db()
    assert eva.time_zone == "Asia/Tokyo"
