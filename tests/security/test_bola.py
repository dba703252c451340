"""Broken object level authorization, generated from the URL configuration.

Every route under /api/v1/ is found by walking the resolver. Each route's path parameters must
be known here: `org_id`, or an object id with a builder in OBJECTS, or a parameter listed in
NOT_OBJECTS with the reason it names no tenant's object. A new route with an unknown parameter
fails `test_every_api_route_is_covered`, naming it, so a new endpoint cannot go untested.

For every route and every method its view allows, organization A's objects are called:
- with organization B's key and B's slug (A's ids in B's paths) → 404;
- with organization B's key and A's slug → 404 (HasOrgScope never reveals another tenant);
- with an A key holding every scope but the view's → 403 `missing_scope`;
- API-key routes whose path names no organization (seed 004's decision path) with B's key →
  404, without a key or with A's session token → 401;
- token-authenticated session routes with B's session token or an API key → 401;
- the person-facing session routes as another signed-in person, or with another person's app
  token → 409 (the session is bound to the person who opened it) or, signed out, 401/403;
- the routes of people's apps (/api/v1/me/) with another person's app token → 404 (an empty
  list), with an API key (organization A's own) or without a token → 401;
and no answer carries A's ids or personal values, and no audit row is written. A positive
control (A's own key) makes sure each 404 is about the tenant, not a broken fixture.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authentication import SessionAuthentication
from rest_framework.test import APIClient

from apps.activities.models import ActivityType
from apps.activities.services import activity_create
from apps.audit.models import Transition
from apps.audit.services import Actor
from apps.identifications.services import ActorData, identification_create
from apps.oauth.api import PersonAppAPIView
from apps.organizations.models import DEFAULT_SCOPES, Organization, Scope
from apps.organizations.permissions import HasKeyScope, HasOrgScope
from apps.transfers.api.views import PersonSessionApi, TokenSessionApi
from apps.transfers.services import session_create, session_retrieve
from apps.verifications.handoff import connection_put
from apps.verifications.services import process_create
from apps.webhooks.endpoints import endpoint_create, endpoint_ping
from tests.activities.conftest import DEFAULTS, make_party
from tests.factories import OrganizationFactory, make_api_key, make_identity, make_person
from tests.oauth.flow import bearer, register_app, sign_in_and_approve
from tests.webhooks.conftest import Receiver

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
# Path parameters that name no organization's object, with the reason.
NOT_OBJECTS = {
    "org_id": "the organization itself, checked against the key by HasOrgScope",
    "provider": "a provider name; the connection it names is the organization's (org_id), the callback and "
    "webhook are authenticated by the provider's HMAC signature",
}
# The value each such parameter takes in the paths below.
NOT_OBJECT_VALUES = {"provider": "onfido"}
# Routes under /api/v1/ that name no object and need no key, with the reason.
PUBLIC_VIEWS = {
    "PersonalDetailsApi": "the public vocabulary of personal detail names",
    "ProviderCallbackApi": "provider results, authenticated by X-Provider-Signature (tests/verifications)",
    "ProviderWebhookApi": "a connected provider's webhook, authenticated by the HMAC of the organization's "
    "webhook token (tests/verifications, tests/security)",
}


# --- The URL configuration ---------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str  # e.g. api/v1/orgs/<slug:org_id>/processes/<uuid:process_id>
    params: tuple[str, ...]
    view: type

    @property
    def methods(self) -> list[str]:
        allowed = [m for m in METHODS if m in self.view.http_method_names and hasattr(self.view, m)]
        return sorted(allowed, key=lambda m: m == "delete")  # a delete goes last

    def path(self, **values: str) -> str:
        path = "/" + self.route
        for name in self.params:
            converter = next(p for p in _segments(self.route) if p[1] == name)[0]
            path = path.replace(f"<{converter}:{name}>" if converter else f"<{name}>", str(values[name]))
        return path

    def __str__(self) -> str:
        return f"/{self.route} ({self.view.__name__})"


def _segments(route: str) -> list[tuple[str, str]]:
    import re

    return [(m[1] or "", m[2]) for m in re.finditer(r"<(?:(\w+):)?(\w+)>", route)]


def _walk(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from _walk(entry.url_patterns, route)
        else:
            yield route, entry


def api_routes() -> list[Route]:
    """Every /api/v1/ route once (the trailing-slash twin of a route is the same view)."""
    seen: set[str] = set()
    routes = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith(API_PREFIX) or route.rstrip("/") in seen:
            continue
        seen.add(route.rstrip("/"))
        view = getattr(pattern.callback, "view_class", None) or getattr(pattern.callback, "cls", None)
        routes.append(Route(route, tuple(name for _, name in _segments(route)), view))
    return routes


ROUTES = api_routes()


def kind(route: Route) -> str:
    """How the route authenticates: org (API key + HasOrgScope), key (API key + HasKeyScope, the
    organization being the key's), token, person, app (a person's app's access token), public."""
    view = route.view
    if view is None:
        return "unknown"
    if view.__name__ in PUBLIC_VIEWS:
        return "public"
    if any(issubclass(p, HasOrgScope) for p in view.permission_classes) and "org_id" in route.params:
        return "org"
    if any(issubclass(p, HasKeyScope) for p in view.permission_classes) and "org_id" not in route.params:
        return "key"
    if issubclass(view, TokenSessionApi):
        return "token"
    if issubclass(view, PersonAppAPIView):
        return "app"
    if issubclass(view, PersonSessionApi) or SessionAuthentication in view.authentication_classes:
        return "person"
    return "unknown"


def object_params(route: Route) -> list[str]:
    return [p for p in route.params if p not in NOT_OBJECTS]


# --- Two organizations' objects ---------------------------------------------------------


@dataclass
class Tenant:
    org: Organization
    key: str
    ids: dict[str, str] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)  # values that must never reach another tenant
    session_token: str = ""


def _identity(t: Tenant, tag: str) -> None:
    email = f"invited-{tag}@example.com"
    identity = make_identity(t.org, email=email, first_name=f"Inez{tag}", last_name=f"Invited{tag}")
    t.ids["identity_id"] = str(identity.pk)
    t.secrets += [email, f"Inez{tag}", f"Invited{tag}"]


def _activity(t: Tenant, tag: str) -> None:
    initiator = make_party(t.org, f"ana-{tag}@example.com", first_name=f"Ana{tag}", email=f"ana-{tag}@example.com")
    receptor = make_party(t.org, f"eva-{tag}@example.com", first_name=f"Eva{tag}", email=f"eva-{tag}@example.com")
    activity = activity_create(
        organization=t.org,
        actor=Actor.system("test"),
        type=ActivityType.REQUEST,
        initiator_id=initiator.pk,
        receptor_id=receptor.pk,
        purpose=f"Purpose {tag}",
        **DEFAULTS[ActivityType.REQUEST],
    )
    t.ids["activity_id"] = str(activity.pk)
    t.ids["party_identity_ids"] = f"{initiator.pk},{receptor.pk}"
    t.secrets += [str(initiator.pk), str(receptor.pk), f"ana-{tag}@example.com", f"Purpose {tag}"]


def _process(t: Tenant, tag: str) -> None:
    process = process_create(
        organization=t.org,
        provider="sandbox",
        process_type=None,
        redirect_url=f"https://{tag}.example.com/back",
        actor=Actor.system("test"),
    )
    t.ids["process_id"] = str(process.pk)
    t.secrets.append(f"{tag}.example.com")


def _identification(t: Tenant, tag: str) -> None:
    identification = identification_create(
        organization=t.org,
        actor_data=ActorData(name=f"Otto{tag}", surname="Actor", email=f"otto-{tag}@example.com"),
        channel="EMAIL",
        expires_in=timedelta(days=1),
        actor=Actor.system("test"),
    )
    t.ids["admin_identification_id"] = str(identification.pk)
    t.secrets += [f"Otto{tag}", f"otto-{tag}@example.com"]


def _session(t: Tenant, tag: str) -> None:
    session, token = session_create(
        organization=t.org, scopes=["first_name"], vendor_data=f"vendor-{tag}", actor=Actor.system("test")
    )
    t.ids["session_id"] = str(session.pk)
    t.session_token = token
    t.secrets += [f"vendor-{tag}", token]


def _webhook(t: Tenant, tag: str, receiver: Receiver) -> None:
    endpoint, secret = endpoint_create(
        organization=t.org, url=receiver.url(f"/hook-{tag}"), events=["identity.state_changed"]
    )
    delivery = endpoint_ping(endpoint=endpoint)
    t.ids["webhook_id"] = str(endpoint.pk)
    t.ids["delivery_id"] = str(delivery.pk)
    t.secrets += [f"/hook-{tag}", secret]


def _connection(t: Tenant, tag: str) -> None:
    """The organization's own Onfido account: the object `orgs/{org_id}/providers/onfido` names."""
    token, webhook_token = f"api_sandbox.token-{tag}", f"webhook-token-{tag}"
    connection_put(
        organization=t.org,
        provider=NOT_OBJECT_VALUES["provider"],
        settings={"api_token": token, "webhook_token": webhook_token, "workflow_id": str(uuid.uuid4())},
        actor=Actor.system("test"),
    )
    t.secrets += [token, webhook_token]


# Path parameter → what builds the object it names. A new object route's parameter goes here.
OBJECTS: dict[str, Callable[..., None]] = {
    "identity_id": _identity,
    "activity_id": _activity,
    "process_id": _process,
    "admin_identification_id": _identification,
    "session_id": _session,
    "webhook_id": _webhook,
    "delivery_id": _webhook,
}


def build(org: Organization, tag: str, receiver: Receiver) -> Tenant:
    tenant = Tenant(org=org, key=make_api_key(org))
    for builder in dict.fromkeys(OBJECTS.values()):
        builder(tenant, tag, receiver) if builder is _webhook else builder(tenant, tag)
    _connection(tenant, tag)
    tenant.secrets += [v for k, v in tenant.ids.items() if k != "party_identity_ids"]
    return tenant


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.stop()


@pytest.fixture
def tenants(db, receiver) -> tuple[Tenant, Tenant]:
    a = build(OrganizationFactory(slug="org-a", name="Org A"), "a", receiver)
    b = build(OrganizationFactory(slug="org-b", name="Org B"), "b", receiver)
    return a, b


def api(key: str | None = None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client


def call(client: Any, method: str, path: str, **extra: Any) -> Any:
    if method in ("get", "delete"):
        return getattr(client, method)(path, **extra)
    return getattr(client, method)(path, "{}", content_type="application/json", **extra)


def assert_no_leak(response: Any, a: Tenant, what: str) -> None:
    body = response.content.decode(errors="replace")
    leaked = [s for s in a.secrets if s and s in body]
    assert not leaked, f"{what}: the answer carries organization A's data {leaked}: {body[:500]}"


# --- The tests ----------------------------------------------------------------------------


def test_every_api_route_is_covered():
    """Each /api/v1/ route authenticates in a known way and each path parameter has a builder."""
    problems = []
    for route in ROUTES:
        if kind(route) == "unknown":
            problems.append(f"{route}: unknown authentication; teach tests/security/test_bola.py about it")
        for name in object_params(route):
            if name not in OBJECTS:
                problems.append(f"{route}: path parameter '{name}' has no builder in OBJECTS")
        if kind(route) == "public" and object_params(route):
            problems.append(f"{route}: a public route names an object '{object_params(route)}'")
    assert not problems, "\n".join(problems)
    assert len([r for r in ROUTES if kind(r) == "org" and object_params(r)]) >= 20


def _ids(route: Route) -> str:
    return route.route.removeprefix(API_PREFIX)


ORG_ROUTES = [r for r in ROUTES if kind(r) == "org"]
KEY_ROUTES = [r for r in ROUTES if kind(r) == "key"]
TOKEN_ROUTES = [r for r in ROUTES if kind(r) == "token"]
PERSON_ROUTES = [r for r in ROUTES if kind(r) == "person"]
APP_ROUTES = [r for r in ROUTES if kind(r) == "app"]


def app_token_client(person: Any) -> Client:
    """`person`'s app, holding every scope, through the portal's own authorization flow."""
    app = register_app(name=f"App of {person.email}")
    return Client(**bearer(sign_in_and_approve(person, app, "openid profile inbox sessions details").access_token))


def _values(route: Route, tenant: Tenant, slug: str) -> dict[str, str]:
    values = {"org_id": slug, **{p: NOT_OBJECT_VALUES[p] for p in route.params if p in NOT_OBJECT_VALUES}}
    for name in object_params(route):
        if name not in tenant.ids:
            pytest.fail(f"{route}: no object for path parameter '{name}'")
        values[name] = tenant.ids[name]
    return values


@pytest.mark.parametrize("route", ORG_ROUTES, ids=_ids)
def test_another_organization_cannot_reach_the_object(route, tenants):
    a, b = tenants
    outsider = api(b.key)
    transitions = Transition.objects.count()
    for method in route.methods:
        for slug in (b.org.slug, a.org.slug):
            values = _values(route, a, slug)
            if slug == b.org.slug and not object_params(route):
                # B's own collection: a list must hold none of A's objects; creating in B is B's right.
                if method == "get":
                    response = call(outsider, method, route.path(**values))
                    assert response.status_code == 200, (str(route), response.content[:300])
                    assert_no_leak(response, a, f"{method.upper()} {route} as B")
                continue
            response = call(outsider, method, route.path(**values))
            what = f"{method.upper()} {route.path(**values)} with B's key"
            assert response.status_code == 404, f"{what}: {response.status_code} {response.content[:300]!r}"
            assert response.json()["errors"], what
            assert_no_leak(response, a, what)
    # A route naming two objects: B's own parent with A's child must not reach A's child either.
    for mixed in object_params(route) if len(object_params(route)) > 1 else []:
        values = {**_values(route, b, b.org.slug), mixed: a.ids[mixed]}
        for method in route.methods:
            response = call(outsider, method, route.path(**values))
            what = f"{method.upper()} {route.path(**values)}: B's path with A's {mixed}"
            assert response.status_code == 404, f"{what}: {response.status_code} {response.content[:300]!r}"
            assert_no_leak(response, a, what)
    assert Transition.objects.count() == transitions, f"{route}: B's calls changed state"


@pytest.mark.parametrize("route", ORG_ROUTES + KEY_ROUTES, ids=_ids)
def test_a_key_without_the_scope_is_refused(route, tenants):
    a, _ = tenants
    scope = route.view.required_scope
    assert scope in {s.value for s in Scope}, f"{route}: the view declares no known required_scope"
    lacking = api(make_api_key(a.org, scopes=[s for s in DEFAULT_SCOPES if s != scope]))
    transitions = Transition.objects.count()
    for method in route.methods:
        path = route.path(**_values(route, a, a.org.slug))
        response = call(lacking, method, path)
        what = f"{method.upper()} {path} without '{scope}'"
        assert response.status_code == 403, f"{what}: {response.status_code} {response.content[:300]!r}"
        assert response.json()["errors"][0]["code"] == "missing_scope", what
        assert_no_leak(response, a, what)
    assert Transition.objects.count() == transitions


@pytest.mark.parametrize("route", ORG_ROUTES + KEY_ROUTES, ids=_ids)
def test_the_owner_reaches_the_object(route, tenants):
    """Positive control: A's own key gets past the object lookup on every method."""
    a, _ = tenants
    owner = api(a.key)
    for method in route.methods:
        path = route.path(**_values(route, a, a.org.slug))
        response = call(owner, method, path)
        assert response.status_code not in (401, 403, 404, 405), (
            f"{method.upper()} {path} as A: {response.status_code} {response.content[:300]!r}"
        )


@pytest.mark.parametrize("route", KEY_ROUTES, ids=_ids)
def test_key_routes_without_an_organization_reach_only_the_keys_own_objects(route, tenants):
    """The organization is the key's: B's key on A's object → 404; no key or A's session token → 401."""
    a, b = tenants
    transitions = Transition.objects.count()
    path = route.path(**_values(route, a, ""))
    for method in route.methods:
        attempts = {
            "B's API key": (call(api(b.key), method, path), 404),
            "no key": (call(APIClient(), method, path), 401),
            "A's session token": (call(APIClient(), method, path, HTTP_X_SESSION_TOKEN=a.session_token), 401),
        }
        for who, (response, expected) in attempts.items():
            what = f"{method.upper()} {path} with {who}"
            assert response.status_code == expected, f"{what}: {response.status_code} {response.content[:300]!r}"
            assert response.json()["errors"], what
            assert_no_leak(response, a, what)
    assert Transition.objects.count() == transitions


def test_the_seed_decision_path_is_a_key_route():
    """Control: the classification above sees seed 004's decision path, so its tests run."""
    assert [r.route for r in KEY_ROUTES] == ["api/v1/session/<uuid:session_id>/decision"]


@pytest.mark.parametrize("route", TOKEN_ROUTES, ids=_ids)
def test_session_token_routes_need_that_sessions_token(route, tenants):
    a, b = tenants
    transitions = Transition.objects.count()
    path = route.path(**_values(route, a, ""))
    for method in route.methods:
        attempts = {
            "B's session token": call(APIClient(), method, path, HTTP_X_SESSION_TOKEN=b.session_token),
            "B's API key": call(api(b.key), method, path),
            "A's API key": call(api(a.key), method, path),
            "no token": call(APIClient(), method, path),
        }
        for who, response in attempts.items():
            what = f"{method.upper()} {path} with {who}"
            assert response.status_code == 401, f"{what}: {response.status_code} {response.content[:300]!r}"
            assert_no_leak(response, a, what)
        owner = call(APIClient(), method, path, HTTP_X_SESSION_TOKEN=a.session_token)
        assert owner.status_code not in (401, 403, 404), (str(route), owner.content[:300])
    assert Transition.objects.count() >= transitions


@pytest.mark.parametrize("route", PERSON_ROUTES, ids=_ids)
def test_person_session_routes_are_bound_to_the_person_who_opened_it(route, tenants):
    """A's session, opened by Ana: signed out → 401/403; another person → 409 and nothing of A's."""
    from apps.transfers.models import TransferSession

    a, _ = tenants
    opener = make_person("opener@example.com", first_name="Opener")
    session_retrieve(session=TransferSession.objects.get(pk=a.ids["session_id"]), person=opener)
    path = route.path(**_values(route, a, ""))
    stranger = Client(enforce_csrf_checks=False)
    stranger.force_login(make_person("stranger@example.com", first_name="Stranger"))
    stranger_app = app_token_client(make_person("stranger-app@example.com", first_name="Stranger"))
    transitions = Transition.objects.count()
    for method in route.methods:
        body = json.dumps({"decision": "confirmed", "accepted_scopes": ["first_name"]})
        send: dict[str, Any] = {} if method == "get" else {"data": body, "content_type": "application/json"}
        signed_out = getattr(Client(), method)(path, **send)
        assert signed_out.status_code in (401, 403), (str(route), signed_out.status_code)
        assert_no_leak(signed_out, a, f"{method.upper()} {path} signed out")
        for who, client in (("another person", stranger), ("another person's app", stranger_app)):
            response = getattr(client, method)(path, **send)
            what = f"{method.upper()} {path} as {who}"
            assert response.status_code == 409, f"{what}: {response.status_code} {response.content[:300]!r}"
            assert_no_leak(response, a, what)
    assert Transition.objects.count() == transitions


@pytest.mark.parametrize("route", APP_ROUTES, ids=_ids)
def test_app_routes_reach_only_the_persons_own_objects(route, tenants):
    """A person's app: another person's token finds none of A's objects (404, or an empty list);
    A's own API key, or no token, is a 401; nothing is written."""
    a, _ = tenants
    stranger = app_token_client(make_person("stranger@example.com", first_name="Stranger"))
    path = route.path(**_values(route, a, ""))
    transitions = Transition.objects.count()
    for method in route.methods:
        response = call(stranger, method, path)
        what = f"{method.upper()} {path} with another person's app token"
        expected = 404 if object_params(route) else 200
        assert response.status_code == expected, f"{what}: {response.status_code} {response.content[:300]!r}"
        assert_no_leak(response, a, what)
        for who, client in (("A's API key", api(a.key)), ("no token", api())):
            refused = call(client, method, path)
            assert refused.status_code == 401, f"{method.upper()} {path} with {who}: {refused.status_code}"
            assert_no_leak(refused, a, f"{method.upper()} {path} with {who}")
    assert Transition.objects.count() == transitions


def test_bodies_cannot_name_another_organizations_objects(tenants):
    """Ids inside request bodies are looked up in the caller's organization too."""
    a, b = tenants
    outsider = api(b.key)
    initiator_id, receptor_id = a.ids["party_identity_ids"].split(",")
    attempts = {
        "process for A's identity": (
            f"/api/v1/orgs/{b.org.slug}/processes",
            {"provider": "sandbox", "identityId": a.ids["identity_id"]},
        ),
        "process for A's activity": (
            f"/api/v1/orgs/{b.org.slug}/processes",
            {"provider": "sandbox", "identityId": receptor_id, "activityId": a.ids["activity_id"]},
        ),
        "activity between A's identities": (
            f"/api/v1/orgs/{b.org.slug}/activities",
            {
                "type": "REQUEST",
                "initiator_id": initiator_id,
                "receptor_id": receptor_id,
                "purpose": "x",
                "requirements": [{"detail": "first_name", "required": True}],
            },
        ),
    }
    transitions = Transition.objects.count()
    for what, (path, body) in attempts.items():
        response = outsider.post(path, body, format="json")
        assert response.status_code in (400, 404), f"{what}: {response.status_code} {response.content[:300]!r}"
        assert_no_leak(response, a, what)
    assert Transition.objects.count() == transitions


def test_an_idempotency_key_never_replays_another_organizations_answer(tenants):
    """Idempotency records are scoped to the API key: B reusing A's key string gets its own answer."""
    a, b = tenants
    body = {"emailAddress": "same@example.com", "firstName": "Sam", "lastName": "Same", "managed": True}
    first = api(a.key).post(
        f"/api/v1/orgs/{a.org.slug}/external-personal-identities", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert first.status_code == 201
    again = api(b.key).post(
        f"/api/v1/orgs/{b.org.slug}/external-personal-identities", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["id"] != first.json()["id"]
    across = api(b.key).post(
        f"/api/v1/orgs/{a.org.slug}/external-personal-identities", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert across.status_code == 404
    assert first.json()["id"] not in across.content.decode()
