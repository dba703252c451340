"""Staff of the back office in each role, members of `acme` (the `org` fixture) unless told otherwise."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from apps.audit.services import Actor
from apps.identifications.models import OtpIdentification
from apps.identifications.services import ActorData, identification_create
from apps.organizations.models import Membership, Organization
from apps.people.models import User
from apps.verifications.models import VerificationProcess
from apps.verifications.services import process_create
from tests.factories import staff_login


def make_staff(email: str, role: str | None, *organizations: Organization, superuser: bool = False) -> User:
    user = User.objects.create_user(email, "staff-pass-123", is_staff=True, is_superuser=superuser)
    if role:
        user.groups.add(Group.objects.get(name=role))
    for organization in organizations:
        Membership.objects.create(organization=organization, user=user)
    return user


@pytest.fixture
def staff_client(db, org) -> Callable[..., Client]:
    """A client signed in as a new staff member with `role`, member of `organizations` (default: acme)."""

    def make(role: str | None, *organizations: Organization, superuser: bool = False) -> Client:
        client = Client()
        email = f"{role or 'superuser'}-{User.objects.count()}@example.com"
        staff_login(client, make_staff(email, role, *(organizations or (org,)), superuser=superuser))
        return client

    return make


def make_process(organization: Organization) -> VerificationProcess:
    return process_create(
        organization=organization, provider="onfido", process_type="documentSelfie", actor=Actor.system("test")
    )


def make_identification(organization: Organization, email: str = "dora@example.com") -> OtpIdentification:
    # One open identification per actor: the document number follows the email.
    document = f"X{zlib.crc32(email.encode()) % 10**7:07d}"
    return identification_create(
        organization=organization,
        actor_data=ActorData(name="Dora", surname="Díaz", email=email, document_number=document),
        channel="EMAIL",
        two_factor_type="DOCUMENT_NUMBER",
        expires_in=timedelta(days=1),
        actor=Actor.system("test"),
    )


class _Buttons(HTMLParser):
    """The (name, value) of every <button> on a page."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "button":
            a = {k: v or "" for k, v in attrs}
            self.buttons.append((a.get("name", ""), a.get("value", "")))


def transition_buttons(response) -> set[str]:
    parser = _Buttons()
    parser.feed(response.content.decode())
    return {value for name, value in parser.buttons if name == "_fsm_transition_to"}


def inline_management(*prefixes: str) -> dict[str, str]:
    """The empty management forms the change form posts for its read-only inlines."""
    data: dict[str, str] = {}
    for prefix in prefixes:
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "0"}
    return data


AUDIT_INLINE = "audit-transition-content_type-object_id"
