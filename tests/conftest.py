"""Three personas, as in healthchecks' tests: the owner's key, the owner's key without the
needed scope, and an outsider organization with its own key."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient
from xdist.scheduler import LoadGroupScheduling

from apps.organizations.models import Organization
from tests.factories import OrganizationFactory, make_api_key

# Test modules that start real servers or Celery workers (gunicorn, daphne, Celery, PostgreSQL,
# Redis) and wait on real time; the soak also has one database and one Redis db of its own
# (SOAK_DATABASE_URL, SOAK_REDIS_URL). They carry the `processes` mark (`-m "not processes"` leaves
# them out) and, under pytest-xdist (`-n`), run one after another in one worker while the other
# workers share the rest. Everything else is per worker already: pytest-django gives each worker
# its own test database (test_<name>_gw0, ...), the test cache is in-process, and ports and
# files come from the free-port helpers and tmp_path.
PROCESS_MODULES = frozenset(
    {
        "tests/integration/test_procfile.py",
        "tests/integration/test_worker_activities.py",
        "tests/integration/test_worker_webhooks.py",
        "tests/reliability/test_faults.py",
        "tests/reliability/test_soak.py",
    }
)


def _module(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _module(item.nodeid) in PROCESS_MODULES:
            item.add_marker(pytest.mark.processes)


class ProcessesInOneWorker(LoadGroupScheduling):
    """pytest.ini's `--dist loadgroup`, with PROCESS_MODULES as one group.

    The group is decided here, in the controller, from the node id's module: pytest-xdist 3.8's
    own `xdist_group` grouping renames node ids on the workers, which pytest 9.2's structured
    node ids ignore (pytest-dev/pytest-xdist#1386), so its groups silently spread out."""

    def _split_scope(self, nodeid: str) -> str:
        if _module(nodeid) in PROCESS_MODULES:
            return "processes"
        return super()._split_scope(nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> LoadGroupScheduling | None:
    if config.getvalue("dist") != "loadgroup":
        return None  # another --dist given on the command line: xdist's own
    return ProcessesInOneWorker(config, log)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def org(db) -> Organization:
    return OrganizationFactory(slug="acme", name="Acme Bank")


@pytest.fixture
def other_org(db) -> Organization:
    return OrganizationFactory(slug="globex", name="Globex")


def _client(raw_key: str | None) -> APIClient:
    client = APIClient()
    if raw_key:
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def api(org) -> APIClient:
    """The owner's client, with every default scope."""
    return _client(make_api_key(org))


@pytest.fixture
def outsider_api(other_org) -> APIClient:
    return _client(make_api_key(other_org))


@pytest.fixture
def make_client():
    return _client
