"""Parties for activities: ACTIVE identities of `acme` whose people hold personal details.

The initiator and the receptor are managed (the API may answer for them); `unmanaged` is an
ACTIVE identity the API may not answer for (the person does, on their consent page)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from apps.activities.models import Activity, ActivityType
from apps.activities.services import activity_create
from apps.audit.services import Actor
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identity_activate
from apps.people.services import person_set_details
from tests.factories import make_identity, make_person

BASE = "/api/v1/orgs/acme/activities"

INITIATOR_DETAILS = {
    "first_name": "Ana",
    "last_name": "García",
    "email": "ana@example.com",
    "phone": "+34600000001",
    "date_of_birth": "1990-04-01",
    "nationality": "ESP",
}
# No phone: a detail this person has no value for.
RECEPTOR_DETAILS = {
    "first_name": "Eva",
    "last_name": "Smit",
    "email": "eva@example.com",
    "date_of_birth": "1985-12-24",
    "nationality": "NLD",
    "address": "Keizersgracht 1, Amsterdam",
}


def make_party(org, login: str, /, *, managed: bool = True, **details: str) -> ExternalPersonalIdentity:
    """An ACTIVE identity of `org`, linked to a person (signing in as `login`) holding `details`."""
    identity = make_identity(
        org,
        email=login,
        first_name=details.get("first_name", "Test"),
        last_name=details.get("last_name", "Person"),
        managed=managed,
    )
    person = make_person(login)
    person_set_details(person=person, details=details)
    return identity_activate(identity=identity, person=person)


@pytest.fixture
def initiator(org) -> ExternalPersonalIdentity:
    return make_party(org, "ana@example.com", **INITIATOR_DETAILS)


@pytest.fixture
def receptor(org) -> ExternalPersonalIdentity:
    return make_party(org, "eva@example.com", **RECEPTOR_DETAILS)


@pytest.fixture
def unmanaged(org) -> ExternalPersonalIdentity:
    return make_party(
        org, "noor@example.com", managed=False, first_name="Noor", last_name="Bakker", email="noor@example.com"
    )


DEFAULTS: dict[str, dict[str, Any]] = {
    ActivityType.REQUEST: {
        "requirements": [{"detail": "first_name", "required": True}, {"detail": "date_of_birth", "required": False}],
    },
    ActivityType.SHARE: {"offered_details": ["first_name", "phone"], "sharing_period": timedelta(days=30)},
    ActivityType.SWAP: {
        "requirements": [{"detail": "first_name", "required": True}, {"detail": "nationality", "required": False}],
        "offered_details": ["first_name", "email"],
    },
    ActivityType.AUTHORIZATION: {
        "authorization": {"description": "Transfer 500 EUR to NL01BANK", "requires_bioface": False}
    },
}


@pytest.fixture
def make_activity(org, initiator, receptor):
    """Create an activity through the service, with sensible defaults for its type."""

    def make(type: str = ActivityType.REQUEST, **kwargs: Any) -> Activity:
        params: dict[str, Any] = {
            "organization": org,
            "type": type,
            "initiator_id": kwargs.pop("initiator", initiator).pk,
            "receptor_id": kwargs.pop("receptor", receptor).pk,
            "purpose": "Open an account",
            **DEFAULTS[type],
            **kwargs,
        }
        return activity_create(actor=Actor.system("test"), **params)

    return make
