"""`manage.py create_person` (API.md "Management commands")."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.db import connection

from apps.people.models import DetailSource, PersonalDetail, User
from apps.people.vocabulary import PERSONAL_DETAILS
from tests.factories import make_person

pytestmark = pytest.mark.django_db

PASSWORD = "a-long-and-unusual-pass-42"

# One valid value per kind of vocabulary entry, so every generated option gets exercised.
SAMPLE_BY_KIND = {
    "text": "Sample text",
    "email": "reads@example.org",
    "phone": "+34600000000",
    "date": "1990-04-12",
    "country": "ESP",
    "gender": "F",
    "document": "passport",
}


def _create(*args: str) -> str:
    out = StringIO()
    call_command("create_person", *args, stdout=out)
    return out.getvalue()


def _raw_values(person: User) -> dict[str, str]:
    """The value column as the database holds it, past the encrypting field."""
    person_id = User._meta.pk.get_db_prep_value(person.pk, connection)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name, value FROM people_personaldetail WHERE person_id = %s", [person_id])
        return dict(cursor.fetchall())


def test_it_creates_a_person_who_can_sign_in_with_encrypted_details():
    _create(
        "Ana@Example.com",
        "--password", PASSWORD,
        "--first-name", "Ana",
        "--last-name", "García",
        "--date-of-birth", "1990-04-12",
        "--nationality", "esp",
    )  # fmt: skip

    person = User.objects.filter_by_email("ana@example.com").get()
    assert authenticate(username="ana@example.com", password=PASSWORD) == person
    assert not person.is_staff and not person.is_superuser
    details = {d.name: (d.value, d.source) for d in PersonalDetail.objects.filter(person=person)}
    assert details == {
        "first_name": ("Ana", DetailSource.SELF_DECLARED),
        "last_name": ("García", DetailSource.SELF_DECLARED),
        "date_of_birth": ("1990-04-12", DetailSource.SELF_DECLARED),
        "nationality": ("ESP", DetailSource.SELF_DECLARED),
    }
    raw = _raw_values(person)
    assert set(raw) == set(details)
    for name, stored in raw.items():
        assert details[name][0] not in stored, f"{name} is stored in plaintext"
        assert stored.startswith("gAAAA"), f"{name} is not a Fernet token"


def test_it_offers_an_option_for_every_personal_detail():
    args = ["bo@example.com", "--password", PASSWORD]
    for spec in PERSONAL_DETAILS:
        args += ["--" + spec.name.replace("_", "-"), SAMPLE_BY_KIND[spec.kind]]

    _create(*args)

    person = User.objects.filter_by_email("bo@example.com").get()
    stored = set(PersonalDetail.objects.filter(person=person).values_list("name", flat=True))
    assert stored == {spec.name for spec in PERSONAL_DETAILS}
    # The `email` detail is separate from the address the person signs in with.
    assert person.email == "bo@example.com"
    assert PersonalDetail.objects.get(person=person, name="email").value == "reads@example.org"


def test_it_refuses_an_email_that_already_has_an_account():
    make_person(email="ana@example.com")

    with pytest.raises(CommandError, match=r"^No account created\. email: An account with this email already exists"):
        _create("ANA@example.com", "--password", PASSWORD, "--first-name", "Other")

    assert User.objects.count() == 1
    assert not PersonalDetail.objects.filter(name="first_name").exists()


def test_it_refuses_an_invalid_date_and_creates_nothing():
    with pytest.raises(CommandError, match="--date-of-birth"):
        _create("ana@example.com", "--password", PASSWORD, "--first-name", "Ana", "--date-of-birth", "12/04/1990")

    assert not User.objects.exists()
    assert not PersonalDetail.objects.exists()


def test_it_names_the_option_of_an_invalid_detail():
    with pytest.raises(CommandError, match="--email: Enter a valid email address") as caught:
        _create("ana@example.com", "--password", PASSWORD, "--email", "not-an-address", "--phone", "12")

    assert "--phone: Phone number must be in international form" in str(caught.value)
    assert not User.objects.exists()


def test_it_refuses_a_weak_password_unless_told_to_skip_validation():
    with pytest.raises(CommandError, match=r"too common|too short"):
        _create("ana@example.com", "--password", "password")
    assert not User.objects.exists()

    _create("ana@example.com", "--password", "password", "--skip-password-validation")
    assert authenticate(username="ana@example.com", password="password") is not None


def test_it_refuses_an_empty_password():
    with pytest.raises(CommandError, match="--password"):
        _create("ana@example.com", "--password", "", "--skip-password-validation")
    assert not User.objects.exists()


def test_it_refuses_an_invalid_email():
    with pytest.raises(CommandError, match="email"):
        _create("not-an-email", "--password", PASSWORD)
    assert not User.objects.exists()


def test_it_makes_staff_and_superusers():
    _create("staff@example.com", "--password", PASSWORD, "--staff")
    _create("root@example.com", "--password", PASSWORD, "--superuser")

    staff = User.objects.filter_by_email("staff@example.com").get()
    root = User.objects.filter_by_email("root@example.com").get()
    assert (staff.is_staff, staff.is_superuser) == (True, False)
    assert (root.is_staff, root.is_superuser) == (True, True)
