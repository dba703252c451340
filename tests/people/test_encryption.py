"""Personal values are encrypted at rest; email lookups go through a keyed HMAC column."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import override_settings

from apps.core.crypto import TOKEN_PREFIX, lookup_hash
from apps.identities.models import ExternalPersonalIdentity
from apps.people.models import PersonalDetail, User
from apps.people.selectors import person_by_email
from apps.people.services import person_create
from tests.factories import make_identity, make_person

pytestmark = pytest.mark.django_db

DETAILS = {
    "first_name": "Ximena",
    "last_name": "Zubizarreta",
    "date_of_birth": "1987-04-12",
    "phone": "+34600111222",
    "document_number": "X1234567Q",
    "address": "Calle Mayor 7, Madrid",
}
PLAINTEXTS = ["ana.zubizarreta@example.com", *DETAILS.values()]


def _rows(table: str) -> list[dict[str, object]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 - fixed table names
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _assert_no_plaintext(rows: list[dict[str, object]]) -> None:
    assert rows
    dump = repr(rows)
    for plaintext in PLAINTEXTS:
        assert plaintext not in dump


def test_it_stores_no_plaintext_for_people(db):
    make_person(email="Ana.Zubizarreta@example.com", **DETAILS)

    users = _rows("people_user")
    details = _rows("people_personaldetail")

    _assert_no_plaintext(users)
    _assert_no_plaintext(details)
    assert all(str(row["email"]).startswith(TOKEN_PREFIX) for row in users)
    assert len(details) == len(DETAILS)
    assert all(str(row["value"]).startswith(TOKEN_PREFIX) for row in details)


def test_it_stores_no_plaintext_for_identities(org):
    make_identity(org, email="ana.zubizarreta@example.com", first_name="Ximena", last_name="Zubizarreta")

    (row,) = _rows("identities_externalpersonalidentity")

    _assert_no_plaintext([row])
    for column in ("email_address", "first_name", "last_name"):
        assert str(row[column]).startswith(TOKEN_PREFIX)


def test_it_reads_the_values_back(org):
    person = make_person(email="ana.zubizarreta@example.com", **DETAILS)
    make_identity(org, email="ana.zubizarreta@example.com", first_name="Ximena", last_name="Zubizarreta")

    person = User.objects.get(pk=person.pk)
    assert person.email == "ana.zubizarreta@example.com"
    assert {d.name: d.value for d in PersonalDetail.objects.filter(person=person)} == DETAILS
    identity = ExternalPersonalIdentity.objects.get()
    assert (identity.email_address, identity.first_name, identity.last_name) == (
        "ana.zubizarreta@example.com",
        "Ximena",
        "Zubizarreta",
    )


def test_it_encrypts_the_same_value_differently_each_time(db):
    make_person(email="a@example.com", first_name="Ana")
    make_person(email="b@example.com", first_name="Ana")

    values = [row["value"] for row in _rows("people_personaldetail")]

    assert len(values) == 2
    assert values[0] != values[1]


@pytest.mark.parametrize("typed", ["ana@example.com", "ANA@Example.COM", "  ana@example.com "])
def test_it_finds_a_person_by_email_through_the_hash(db, typed):
    person = make_person(email="Ana@Example.com")

    assert person_by_email(typed) == person
    assert User.objects.filter_by_email(typed).get() == person
    (row,) = _rows("people_user")
    assert row["email_hash"] == lookup_hash("ana@example.com")
    assert "ana" not in str(row["email_hash"])


def test_it_finds_nobody_for_an_unknown_email(db):
    make_person(email="ana@example.com")

    assert person_by_email("bob@example.com") is None


def test_it_refuses_a_second_account_for_the_same_email(db):
    make_person(email="ana@example.com")

    with pytest.raises(ValidationError):
        person_create(email="ANA@example.com", password="another-pass-123")

    assert User.objects.count() == 1


def test_it_refuses_to_filter_on_encrypted_values(db):
    # An equality filter on ciphertext would silently match nothing.
    with pytest.raises(NotImplementedError):
        list(User.objects.filter(email="ana@example.com"))
    with pytest.raises(NotImplementedError):
        list(PersonalDetail.objects.filter(value__icontains="Ana"))


def test_it_reads_old_values_after_a_key_rotation(db):
    person = make_person(email="ana@example.com", first_name="Ana")
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    new_key = Fernet.generate_key().decode()

    with override_settings(FIELD_ENCRYPTION_KEYS=[new_key, old_key]):
        assert User.objects.get(pk=person.pk).email == "ana@example.com"
        make_person(email="bob@example.com", first_name="Bob")
        bob_token = next(r["email"] for r in _rows("people_user") if r["email_hash"] == lookup_hash("bob@example.com"))

    # New values are written with the newest key.
    assert Fernet(new_key.encode()).decrypt(str(bob_token).encode()) == b"bob@example.com"
