"""Factories shared by the suite. Services create the objects, as integrators would."""

from __future__ import annotations

import time

import factory
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

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


def staff_login(client: Client, user: User) -> Client:
    """Sign a staff account in on a test client as the back office requires: a session that
    passed the second factor (the account's confirmed TOTP device, made here if it has none).

    The one way tests sign staff in without the sign-in pages; the staff session's clock
    (apps.backoffice.sessions) starts now, as at a real sign-in."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def totp_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code an authenticator app with `device`'s key shows at `at`; by default now, or the
    next time step when now's code was already used (a used code never signs in again)."""
    if at is None:
        device.refresh_from_db()
        at = max(time.time(), device.t0 + (device.last_t + 1) * device.step)
    return totp_code_for_key(device.bin_key, at=at)


def totp_code_for_key(key: bytes, *, at: float | None = None) -> str:
    """The 6-digit code of a TOTP key (RFC 6238 defaults: SHA-1, 30 s steps)."""
    totp = TOTP(key)
    totp.time = time.time() if at is None else at
    return f"{totp.token():06d}"
