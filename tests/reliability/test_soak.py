"""The soak in its short configuration (about 30 seconds): `make soak` runs it for 10 minutes.

Needs PostgreSQL and Redis servers (DATABASE_URL=postgres://…, REDIS_URL): the soak starts
gunicorn, a Celery worker and beat against a database of its own (`portal_soak`, recreated) on the same
PostgreSQL server and Redis db 7 on the same Redis server, with a queue of its own.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.reliability import soak

DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not (DATABASE_URL.startswith(("postgres://", "postgresql://")) and REDIS_URL),
    reason="needs PostgreSQL and Redis servers: set DATABASE_URL=postgres://… and REDIS_URL",
)


def _on_same_server(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def test_a_short_soak_has_no_errors_no_leaks_and_delivers_every_event(tmp_path):
    result = soak.run(
        minutes=float(os.environ.get("SOAK_TEST_MINUTES", "0.5")),
        rate=15,
        toggles=3,
        database_url=os.environ.get("SOAK_DATABASE_URL") or _on_same_server(DATABASE_URL, "/portal_soak"),
        redis_url=os.environ.get("SOAK_REDIS_URL") or _on_same_server(REDIS_URL, "/7"),
        workdir=tmp_path,
        log=lambda line: None,
    )
    assert result["ok"], result["failures"]
    assert result["errors"] == 0
    assert result["requests"] >= 0.9 * 15 * result["elapsed_seconds"]
    events = result["events"]
    assert events["transitions"] > 0
    assert events["succeeded"] == events["received"] == events["transitions"]
    assert result["pg_connections"]["max"] <= result["pg_connections"]["pool"]
