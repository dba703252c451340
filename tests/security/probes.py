"""Attacks replayed under config.settings.production on the suite's PostgreSQL database.

A probe module (tests/security/staff_probe.py, api_probe.py) sets Django up, defines
`attacks() -> dict` and ends with `run_attacks(attacks)`; a test module reads what it got
through `probe_results`, which runs the probe in a fresh interpreter with the production settings
module and the environment a deployment sets (as test_production_settings.py does).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import setup_test_environment

from tests.security.test_production_settings import production_env, run

ON_POSTGRESQL = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="replayed on PostgreSQL (set DATABASE_URL), as production runs"
)


def run_attacks(attacks: Callable[[], dict[str, Any]]) -> None:
    """In the probe's interpreter: every attack in one transaction that is rolled back, so the
    database is left as found; the last line of stdout is a JSON object of what each got."""
    setup_test_environment()
    with transaction.atomic():
        results = attacks()
        transaction.set_rollback(True)
    print(json.dumps(results))


def probe_results(module: str, django_db_blocker: Any, tmp_path: Any, *, collectstatic: bool = False) -> dict:
    """In the test's interpreter: run `python -m <module>` under the production settings against
    the suite's test database and return its JSON."""
    with django_db_blocker.unblock():
        connection.ensure_connection()
        db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}"
    env = production_env(tmp_path, ALLOWED_HOSTS="testserver", DATABASE_URL=url)
    if collectstatic:
        # The admin's pages need the hashed static files' manifest, as in the production image.
        collected = run(["manage.py", "collectstatic", "--noinput", "-v", "0"], env)
        assert collected.returncode == 0, collected.stderr[-3000:]
    result = run(["-m", module], env)
    assert result.returncode == 0, f"{db['NAME']}: {result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])
