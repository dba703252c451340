"""Schemathesis against /api/schema/: every operation, every check, and the stateful phase.

The Django app answers in-process through its WSGI handler, inside the test's database
transaction. The organization `acme` is seeded with one object of each kind, and an API
key holding every scope; generated path parameters are steered towards those objects so
that cases reach the 2xx paths, not only 404.

The default suite runs a few cases per operation (`FUZZ_MAX_EXAMPLES`, default 6) and 40
short scenarios (`FUZZ_STATEFUL_EXAMPLES`, `FUZZ_STATEFUL_STEPS`); `make fuzz` runs thousands.
Hypothesis is derandomized and keeps no example database.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import uuid
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from oauth2_provider.models import get_access_token_model
from rest_framework.test import APIClient
from schemathesis.openapi.checks import EnsureResourceAvailability

from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identity_activate
from apps.organizations import services as organization_services
from apps.organizations.models import Scope
from apps.organizations.services import KEY_PREFIX
from apps.people.services import person_set_details
from apps.webhooks import destinations
from apps.webhooks.sender import SendResult
from tests.factories import OrganizationFactory, make_api_key, make_person
from tests.fuzz.conftest import CALLS
from tests.oauth.flow import register_app, sign_in_and_approve

MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "6"))
STATEFUL_EXAMPLES = int(os.environ.get("FUZZ_STATEFUL_EXAMPLES", "40"))
STATEFUL_STEPS = int(os.environ.get("FUZZ_STATEFUL_STEPS", "10"))

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "use_after_free",
    "ensure_resource_availability",
]

ORG = "acme"
# What each activity type needs besides its parties, as in the API's examples.
ACTIVITY_BODIES: dict[str, dict[str, Any]] = {
    "AT_001": {"requirements": [{"detail": "first_name", "required": True}]},
    "AT_002": {"offered_details": ["first_name"], "sharing_period": "P30D"},
    "AT_003": {"requirements": [{"detail": "first_name", "required": True}], "offered_details": ["email"]},
    "AT_004": {"authorization": {"description": "Transfer 500 EUR to NL01BANK"}},
}
ANA = {"first_name": "Ana", "last_name": "García", "email": "ana@example.com", "phone": "+34600000001"}
EVA = {"first_name": "Eva", "last_name": "Smit", "email": "eva@example.com", "date_of_birth": "1985-12-24"}
# Filled by the `seeded` fixture: path parameter name → ids of existing objects, and the values
# valid bodies and headers refer to.
KNOWN: dict[str, Any] = {}
# Ids in 201 answers that were Idempotency-Key replays.
REPLAYED: set[str] = set()
KEY_ID = "f0220000"
KEY_SECRET = "schemathesis-fuzzing-key-not-a-secret-0123456"
RAW_KEY = f"{KEY_PREFIX}_{KEY_ID}_{KEY_SECRET}"
AUTH = {"Authorization": f"Bearer {RAW_KEY}"}

HYPOTHESIS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    print_blob=False,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
)


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _fake_getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
    """Resolve without DNS: an address literal is itself, any name is the loopback address."""
    try:
        address = str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        address = "127.0.0.1"
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    return [(family, socket.SOCK_STREAM, 6, "", (address, port))]


def offline_patches(monkeypatch):
    """No DNS and no outgoing HTTP: webhook and notification receivers answer 204 at once."""
    monkeypatch.setattr(
        destinations,
        "socket",
        SimpleNamespace(getaddrinfo=_fake_getaddrinfo, SOCK_STREAM=socket.SOCK_STREAM, gaierror=socket.gaierror),
    )
    monkeypatch.setattr("apps.webhooks.delivery.post", lambda destination, body, headers: SendResult(204, ""))


def _post(client: APIClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(f"/api/v1/orgs/{ORG}/{path}", body, format="json")
    assert response.status_code in (200, 201, 202), (path, response.status_code, response.content)
    return response.json() if response.content else {}


@pytest.fixture
def seeded(db, settings, monkeypatch):
    """`acme`, a key with every scope, and one object of each kind, created through the API."""
    settings.API_RATE_LIMIT = "1000000/min"
    cache.clear()
    org = OrganizationFactory(slug=ORG, name="Acme Bank")
    # The key's random parts are fixed, so the schema's configured header can name it.
    monkeypatch.setattr(
        organization_services,
        "secrets",
        SimpleNamespace(token_hex=lambda n: KEY_ID, token_urlsafe=lambda n: KEY_SECRET),
    )
    raw = make_api_key(org, scopes=[s.value for s in Scope])
    monkeypatch.undo()
    assert raw == RAW_KEY
    offline_patches(monkeypatch)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")

    ana = _post(
        client,
        "external-personal-identities",
        {"emailAddress": "ana@example.com", "firstName": "Ana", "lastName": "García", "managed": True},
    )
    eva = _post(
        client,
        "external-personal-identities",
        {"emailAddress": "eva@example.com", "firstName": "Eva", "lastName": "Smit", "managed": True},
    )
    noor = _post(
        client,
        "external-personal-identities",
        {"emailAddress": "noor@example.com", "firstName": "Noor", "lastName": "Bakker", "managed": False},
    )
    people = {}
    for identity, details in ((ana, ANA), (eva, EVA)):
        person = make_person(details["email"])
        person_set_details(person=person, details=details)
        identity_activate(identity=ExternalPersonalIdentity.objects.get(pk=identity["id"]), person=person)
        people[details["email"]] = person
    # Eva's phone app, holding every scope, for the operations that take a person's access token
    # (/api/v1/me/..., the session's information and update): living as long as the run.
    settings.APP_TOKEN_RATE_LIMIT = "1000000/min"
    app_token = sign_in_and_approve(
        people[EVA["email"]], register_app(), "openid profile inbox sessions details"
    ).access_token
    get_access_token_model().objects.update(expires=timezone.now() + timedelta(days=1))
    request = _post(
        client,
        "activities",
        {
            "type": "AT_001",
            "initiator_id": ana["id"],
            "receptor_id": eva["id"],
            "purpose": "Open an account",
            "requirements": [{"detail": "first_name", "required": True}, {"detail": "phone", "required": False}],
        },
    )
    authorization = _post(
        client,
        "activities",
        {
            "type": "AT_004",
            "initiator_id": ana["id"],
            "receptor_id": eva["id"],
            "purpose": "Open an account",
            "authorization": {"description": "Transfer 500 EUR to NL01BANK"},
        },
    )
    # Accepted, so that its shared details can be read.
    shared = _post(
        client,
        "activities",
        {
            "type": "AT_001",
            "initiator_id": ana["id"],
            "receptor_id": eva["id"],
            "purpose": "Check the age",
            "requirements": [{"detail": "date_of_birth", "required": True}],
        },
    )
    _post(client, f"activities/{shared['id']}/accept", {"sharing_period": "P30D"})
    process = _post(
        client,
        "processes",
        {"provider": "onfido", "processType": "documentSelfie", "notificationUrl": "https://example.com/n"},
    )
    # Final, so that its full result can be downloaded.
    canceled = _post(client, "processes", {"provider": "sandbox"})
    _post(client, f"processes/{canceled['processId']}/cancel", {})
    identification = _post(
        client,
        "identifications/otp",
        {
            "actor": {"name": "Ana", "surname": "García", "email": "ana@example.com", "document_number": "12345678Z"},
            "two_factor_type": "DOCUMENT_NUMBER",
            "channel": {"type": "EMAIL"},
        },
    )
    session = _post(client, "sessions", {"scopes": ["first_name", "last_name"]})
    webhook = _post(client, "webhooks", {"url": "https://hooks.example.com/in", "events": ["webhook.ping"]})
    _post(client, f"webhooks/{webhook['id']}/ping", {})
    deliveries = client.get(f"/api/v1/orgs/{ORG}/webhooks/{webhook['id']}/deliveries").json()["results"]

    REPLAYED.clear()
    KNOWN.clear()
    KNOWN.update(
        {
            "org_id": [ORG],
            "identity_id": [ana["id"], eva["id"], noor["id"]],
            "activity_id": [request["id"], authorization["id"], shared["id"]],
            "process_id": [process["processId"], canceled["processId"]],
            "admin_identification_id": [identification["id"]],
            "session_id": [session["session_id"]],
            "webhook_id": [webhook["id"]],
            "delivery_id": [d["id"] for d in deliveries],
            "provider": ["onfido", "sandbox"],
            # Not path parameters: values a valid request body or header refers to.
            "parties": [ana["id"], eva["id"]],
            "session_token": {session["session_id"]: session["session_token"]},
            "app_token": app_token,
        }
    )
    # As Django's test client does: the requests run inside the test's transaction, so the
    # handler must not close the connection at the end of each one.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    KNOWN.clear()


def flatmap_path_parameters(context, path_parameters):
    """Mostly the seeded objects (to reach 2xx), sometimes the generated value (to reach 404)."""
    if not path_parameters:
        return st.just(path_parameters)
    choices = {}
    for name, value in path_parameters.items():
        known = KNOWN.get(name)
        # A value that is not a UUID where one is expected is a negative case: keep it.
        if known and (name in ("org_id", "provider") or _is_uuid(value)):
            choices[name] = st.one_of(st.sampled_from(known), st.sampled_from(known), st.just(value))
        else:
            choices[name] = st.just(value)
    return st.fixed_dictionaries(choices)


def _steer(case: Any) -> Any:
    """A valid case made to refer to what exists: ACTIVE parties, the session's token."""
    token = KNOWN.get("session_token", {}).get(case.path_parameters.get("session_id"))
    if token and case.headers is not None and "X-Session-Token" in case.headers:
        case.headers["X-Session-Token"] = token
    if not isinstance(case.body, dict):
        return case
    if "initiator_id" in case.body and KNOWN.get("parties"):
        initiator, receptor = KNOWN["parties"]
        purpose = case.body.get("purpose")
        template = ACTIVITY_BODIES.get(str(case.body.get("type")), {})
        case.body = {
            **case.body,
            **template,
            "initiator_id": initiator,
            "receptor_id": receptor,
            "purpose": purpose if isinstance(purpose, str) and purpose.strip() else "Open an account",
        }
    elif case.operation.path.endswith("/processes") and "provider" in case.body:
        case.body = {**case.body, "provider": "sandbox"}
        case.body.pop("processType", None)
    return case


def flatmap_case(context, case):
    """Half of the valid cases are steered towards existing objects; negative ones stay as generated."""
    if case.meta is None or case.meta.generation.mode.is_negative:
        return st.just(case)
    return st.booleans().map(lambda steer: _steer(case) if steer else case)


def _takes_app_token(path: str) -> bool:
    return path.startswith("/api/v1/me/") or path in (
        "/api/v1/session/{session_id}/information",
        "/api/v1/session/{session_id}/update",
    )


@schemathesis.hook
def before_call(context, case, kwargs):
    """The person's operations get Eva's app token instead of the API key (API keys are refused there)."""
    token = KNOWN.get("app_token")
    if token and _takes_app_token(case.operation.path):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}


def after_call(context, case, response):
    """Count what was sent, per phase, operation and answer, for the run's summary."""
    if response.status_code == 201 and response.headers.get("idempotent-replayed") == ["true"]:
        body = response.json()
        REPLAYED.update(str(body[key]) for key in ("id", "processId", "session_id") if key in body)
    phase = "stateful" if case.meta is not None and "stateful" in str(case.meta.phase.name).lower() else "stateless"
    operation = f"{case.operation.method.upper()} {case.operation.path}"
    if case.method.upper() != case.operation.method.upper():
        operation += f" (sent as {case.method.upper()})"
    CALLS[(phase, operation, response.status_code)] += 1
    # Fresh counters for the next call: the per-destination message limits (5 an hour, whatever
    # the key) would otherwise close resends to the seeded addresses after a few cases.
    cache.clear()


def filter_failure(context, failure, case, response):
    """A replayed creation is not a creation (docs/api-decisions.md, Idempotency-Key).

    A repeat with the same key and body answers the first 201 again, even when that object has
    since been deleted; ensure_resource_availability would take the replay for a new object.
    """
    replayed = {str(value) for value in case.path_parameters.values()} & REPLAYED
    return not (isinstance(failure, EnsureResourceAvailability) and replayed)


schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    database="none",
)
schema.config.checks.update(included_check_names=CHECKS)
schema.config.update(headers=AUTH, parameters={"path.org_id": ORG})
# The stateful phase follows the links the schema documents (apps.api.schema.add_links) only.
schema.config.phases.stateful.inference.algorithms = []
schema.hook(flatmap_path_parameters)
schema.hook(flatmap_case)
schema.hook(after_call)
schema.hook(filter_failure)


@pytest.mark.usefixtures("seeded")
@schema.parametrize()
@HYPOTHESIS
def test_every_operation(case):
    case.call_and_validate()


class Workflow(schema.as_state_machine()):
    """Each scenario starts from the seeded data: its writes are rolled back at its end.

    Otherwise a scenario's outcome (and so the next one's preconditions) would depend on what
    earlier scenarios left behind, and Hypothesis could not replay it.
    """

    def setup(self) -> None:
        super().setup()
        self._scenario = transaction.atomic()
        self._scenario.__enter__()

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._scenario.__exit__(None, None, None)
        cache.clear()
        super().teardown()


@pytest.mark.usefixtures("seeded")
def test_stateful():
    Workflow.run(
        settings=settings(
            HYPOTHESIS,
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            phases=[Phase.generate],
        )
    )
