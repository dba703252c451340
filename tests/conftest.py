"""Three personas, as in healthchecks' tests: the owner's key, the owner's key without the
needed scope, and an outsider organization with its own key."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation
from rest_framework.test import APIClient
from xdist.remote import Producer
from xdist.scheduler import LoadScheduling
from xdist.workermanage import WorkerController

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


class ProcessesInOneWorker(LoadScheduling):
    """pytest-xdist's `load` scheduling (what `-n` uses), except that every PROCESS_MODULES test goes
    to one worker (the first still running), which takes them before its share of the rest.

    Not `--dist loadgroup` with `xdist_group` marks: pytest-xdist 3.8 marks a group by renaming node
    ids on the workers, which pytest 9.2's structured node ids ignore (pytest-dev/pytest-xdist#1386),
    and its scope scheduling keys tests by node id, where schemathesis' operations share one under
    pytest 9.2 (each would run once in all). This keeps `load`'s index-based bookkeeping."""

    def _send_tests(self, node: WorkerController, num: int) -> None:
        if self.collection is None:
            super()._send_tests(node, num)
            return
        processes = [i for i in self.pending if _module(self.collection[i]) in PROCESS_MODULES]
        others = [i for i in self.pending if _module(self.collection[i]) not in PROCESS_MODULES]
        chosen = ((processes + others) if node is next(iter(self.node2pending)) else others)[:num]
        if chosen:
            taken = set(chosen)
            self.pending[:] = [i for i in self.pending if i not in taken]
            self.node2pending[node].extend(chosen)
            node.send_runtest_some(chosen)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Producer) -> LoadScheduling | None:
    if config.getvalue("dist") != "load":
        return None  # another --dist asked for on the command line: xdist's own
    return ProcessesInOneWorker(config, log)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _default_language():
    """A request in Spanish leaves Spanish active in the thread (LocaleMiddleware activates it and
    nothing resets it); management commands and services then speak it in the next test."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


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
