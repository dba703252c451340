"""Factories shared by the suite. Services create the objects, as integrators would."""

from __future__ import annotations

import factory

from apps.audit.services import Actor
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identity_create
from apps.organizations.models import Organization
from apps.organizations.services import api_key_create
from apps.people.models import User
from apps.people.services import person_create


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    slug = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Organization {n}")


def make_api_key(organization: Organization, scopes: list[str] | None = None) -> str:
    _, raw = api_key_create(organization=organization, scopes=scopes)
    return raw


def make_person(email: str = "person@example.com", password: str = "correct-horse-9", **details: str) -> User:
    return person_create(email=email, password=password, details=details, check_password=False)


def make_identity(
    organization: Organization,
    *,
    email: str = "ana@example.com",
    first_name: str = "Ana",
    last_name: str = "García",
    managed: bool = True,
) -> ExternalPersonalIdentity:
    return identity_create(
        organization=organization,
        email_address=email,
        first_name=first_name,
        last_name=last_name,
        managed=managed,
        actor=Actor.system("test"),
    )
