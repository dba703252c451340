"""Every object's name (its str(), which the back office shows in titles, breadcrumbs, messages,
inline rows and select lists) is in the reader's language: state labels, never a raw status code
or a whole UUID."""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import models
from django.utils import translation

from apps.activities.models import ActivityStatus
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.identifications.models import MessageKind, MessageStatus, OtpIdentification, OtpMessage
from apps.identities.models import IdentityState
from apps.oauth.services import connection_record
from apps.organizations.models import Organization
from apps.people.models import User
from apps.transfers.services import session_create
from apps.verifications.handoff import connection_put
from apps.webhooks.models import Event
from tests.factories import make_api_key
from tests.oauth.flow import register_app

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE)


def _project_models() -> list[type[models.Model]]:
    return [model for model in apps.get_models() if model.__module__.startswith("apps.") and model._meta.managed]


def _status_codes() -> set[str]:
    """Every stored value of a state or status field whose label differs from it (ACCEPTED,
    INVITED, CREATED, initialized, active, ...)."""
    codes = set()
    for model in _project_models():
        for field in model._meta.get_fields():
            if getattr(field, "choices", None) and field.name in {"status", "state", getattr(model, "STATE_FIELD", "")}:
                codes |= {str(value) for value, label in field.flatchoices if str(value) != str(label)}
    return codes


@pytest.fixture
def world(settings):
    settings.PUBLIC_BASE_URL = "http://testserver"
    call_command("seed_demo", stdout=io.StringIO())
    organization = Organization.objects.get(slug="demo")
    actor = Actor.system("test")
    session_create(organization=organization, scopes=["first_name"], vendor_data="names", actor=actor)
    make_api_key(organization)
    ana = User.objects.filter_by_email("ana@example.com").get()
    connection_record(person=ana, application=register_app(name="Mio Phone"), scopes=["inbox"])
    connection_put(
        organization=organization,
        provider="onfido",
        settings={"api_token": "api_sandbox.x", "webhook_token": "y", "workflow_id": "z"},
        actor=actor,
    )
    Event.objects.create(organization=organization, type="ping", data={})
    identification = OtpIdentification.objects.filter(organization=organization).first()
    OtpMessage.objects.create(
        identification=identification,
        kind=MessageKind.CODE,
        channel=identification.channel,
        destination="someone@example.com",
        status=MessageStatus.SENT,
    )
    return organization


@pytest.mark.django_db(transaction=True)
def test_every_objects_name_in_spanish_has_no_status_code_and_no_uuid(world):
    codes = _status_codes()
    assert {ActivityStatus.ACCEPTED.value, IdentityState.INVITED.value, "initialized", "active"} <= codes
    word = re.compile(r"(?<![\w.])(" + "|".join(sorted(map(re.escape, codes), key=len, reverse=True)) + r")(?![\w])")

    named, problems = set(), []
    with translation.override("es"):
        for model in _project_models():
            for obj in model._default_manager.all()[:25]:
                name = str(obj)
                named.add(model._meta.label)
                if UUID.search(name) or word.search(name):
                    problems.append(f"{model._meta.label}: {name!r}")
    assert not problems, "\n".join(problems)
    expected = {
        "activities.Activity",
        "activities.ConsentReceipt",
        "audit.Transition",
        "identifications.OtpIdentification",
        "identifications.OtpMessage",
        "identities.ExternalPersonalIdentity",
        "oauth.Connection",
        "people.DetailProposal",
        "transfers.TransferSession",
        "verifications.VerificationProcess",
        "verifications.ProcessReview",
        "verifications.ProviderConnection",
        "webhooks.Event",
    }
    assert expected <= named, expected - named


@pytest.mark.django_db(transaction=True)
def test_names_use_the_state_labels_and_a_short_id(world):
    created = Transition.objects.filter(from_state="", to_state=IdentityState.INVITED).first()
    changed = Transition.objects.filter(from_state=IdentityState.INVITED, to_state=IdentityState.ACTIVE).first()
    with translation.override("es"):
        assert str(created) == f"identidad personal externa {created.object_id[:8]}: Invitada"
        assert str(changed) == f"identidad personal externa {changed.object_id[:8]}: Invitada → Activa"
    with translation.override("en"):
        assert str(changed) == f"external personal identity {changed.object_id[:8]}: Invited → Active"
