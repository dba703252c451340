"""The API's apps are mounted behind one quick check each (apps.api.urls.SectionResolver):
resolving a route no longer tries every route of the apps mounted before it, and every
route still resolves to its view and reverses to its path."""

from __future__ import annotations

import uuid

import pytest
from django.urls import Resolver404, URLPattern, get_resolver, resolve, reverse

from apps.api.urls import SectionResolver


def _api_sections() -> list[SectionResolver]:
    api = next(p for p in get_resolver().url_patterns if str(p.pattern) == "api/v1/")
    return [p for p in api.url_patterns if isinstance(p, SectionResolver)]


def test_every_app_of_the_api_is_a_section():
    assert len(_api_sections()) == 6
    assert all(section.section is not None for section in _api_sections())


def test_a_route_of_the_last_app_tries_only_the_routes_of_its_own_app():
    match = resolve(f"/api/v1/session/{uuid.uuid4()}/status")

    assert match.url_name == "session-status"
    tried_routes = [t for t in match.tried if isinstance(t[-1], URLPattern)]
    transfers = _api_sections()[-1]
    assert len(tried_routes) <= len(transfers.url_patterns) + 2  # + personal-details, both forms


@pytest.mark.parametrize("section", _api_sections(), ids=lambda s: s.urlconf_name)
def test_each_route_resolves_to_itself_through_its_section(section):
    for pattern in section.url_patterns:
        if not pattern.name:
            continue
        kwargs = {name: _sample(name) for name in pattern.pattern.converters}
        url = reverse(f"api:{pattern.name}", kwargs=kwargs)
        match = resolve(url)
        assert match.func is pattern.callback, url
        assert resolve(url + "/").func is pattern.callback, url


def test_a_path_no_section_knows_is_a_404():
    with pytest.raises(Resolver404):
        resolve("/api/v1/orgs/acme/nothing-here")


def _sample(name: str) -> str:
    return "acme" if name == "org_id" else "onfido" if name == "provider" else str(uuid.uuid4())


def test_seed_decision_path_resolves_in_the_transfers_section_beside_the_token_routes():
    from apps.transfers.api.views import SessionDecisionBySessionIdApi, SessionStatusApi

    session_id = uuid.uuid4()
    decision = resolve(f"/api/v1/session/{session_id}/decision")
    status = resolve(f"/api/v1/session/{session_id}/status")

    assert decision.func.view_class is SessionDecisionBySessionIdApi
    assert status.func.view_class is SessionStatusApi
    # The status poll still meets its route before the new one.
    transfers = [p.name for p in _api_sections()[-1].url_patterns if p.name]
    assert transfers.index("session-status") < transfers.index("session-decision-seed")
