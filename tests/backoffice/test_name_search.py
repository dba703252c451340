"""Staff find a person by name through the keyed blind index of name words."""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client, override_settings

from apps.audit.services import Actor
from apps.core.crypto import name_token_hash, name_token_hashes, name_tokens
from apps.identities.models import IdentityNameToken
from apps.identities.services import identity_activate, identity_update
from tests.backoffice.conftest import make_staff
from tests.factories import make_identity, make_person, staff_login

pytestmark = pytest.mark.django_db

IDENTITIES = "/admin/identities/externalpersonalidentity/"


def _found(client, term: str) -> list[str]:
    response = client.get(IDENTITIES, {"q": term})
    assert response.status_code == 200
    return sorted(str(obj.pk) for obj in response.context["cl"].result_list)


def test_name_tokens_are_normalised():
    assert name_tokens("  José-María ÑÚÑEZ ", "O'Neill") == ["jose", "maria", "neill", "nunez", "o"]
    assert name_tokens("Straße") == ["strasse"]
    assert name_tokens("123 --") == []


def test_the_index_is_keyed_and_no_plain_hash():
    digest = name_token_hash("ana")
    assert digest != hashlib.sha256(b"ana").hexdigest()
    with override_settings(FIELD_HMAC_KEY="another key"):
        assert name_token_hash("ana") != digest
    assert name_token_hash("ana") == digest


def test_the_index_follows_every_write_of_the_name(org):
    identity = make_identity(org, first_name="Ana", last_name="García López")
    stored = set(IdentityNameToken.objects.filter(identity=identity).values_list("digest", flat=True))
    assert stored == set(name_token_hashes("ana", "garcia", "lopez"))
    assert not any("ana" in digest for digest in stored)

    identity_update(identity=identity, data={"last_name": "Pérez"}, actor=Actor.system("test"))

    stored = set(IdentityNameToken.objects.filter(identity=identity).values_list("digest", flat=True))
    assert stored == set(name_token_hashes("Ana Pérez"))


def test_staff_find_identities_by_every_word_of_a_name(staff_client, org, other_org):
    ana = make_identity(org, email="ana@example.com", first_name="Ana María", last_name="García")
    maria = make_identity(org, email="maria@example.com", first_name="María", last_name="Sol")
    elsewhere = make_identity(other_org, email="ana2@example.com", first_name="Ana", last_name="García")
    client = staff_client("viewer")

    assert _found(client, "garcia") == [str(ana.pk)]
    assert _found(client, "MARIA") == sorted([str(ana.pk), str(maria.pk)])
    assert _found(client, "maría garcía") == [str(ana.pk)]
    assert _found(client, "ana sol") == []  # every word must match
    assert _found(client, "gar") == []  # whole words only
    assert _found(client, "--") == []
    assert str(elsewhere.pk) not in _found(client, "ana")  # organization scoping holds
    assert _found(client, "ana@example.com") == [str(ana.pk)]
    assert _found(client, str(maria.pk)) == [str(maria.pk)]


def test_a_superuser_finds_a_person_account_by_name(org):
    person = make_person("lucia@example.com")
    identity_activate(identity=make_identity(org, email="lucia@example.com", first_name="Lucía"), person=person)
    client = staff_login(Client(), make_staff("root@example.com", None, superuser=True))

    response = client.get("/admin/people/user/", {"q": "lucia garcia"})

    assert [u.pk for u in response.context["cl"].result_list] == [person.pk]
