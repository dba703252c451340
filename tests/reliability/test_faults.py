"""Faults: Redis stopped while requests come in, a Celery worker killed mid-task, the database
restarted. Each end-to-end test starts its own Redis server and PostgreSQL cluster on free ports
in a temp dir (the shared servers are never stopped) and runs the portal as real processes:
gunicorn, a Celery worker and beat. The first tests check the pieces those faults rely on
in-process, without any server.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from unittest import mock

import pytest
import requests
from django.core import mail
from django.db import OperationalError
from django.test import RequestFactory

from apps.api.middleware import ApiErrorMiddleware
from apps.core.cache import ResilientRedisCache
from apps.identities.models import ExternalPersonalIdentity
from apps.identities.services import identities_send_unsent_invitations
from tests.factories import make_identity
from tests.reliability.faults_support import (
    Portal,
    PostgresServer,
    RedisServer,
    StallingSmtpServer,
    WebhookSink,
    delivery_counts,
    free_port,
    missing_servers,
    wait_until,
)

needs_servers = pytest.mark.skipif(bool(missing_servers()), reason=missing_servers() or "servers available")

IDENTITIES = "/api/v1/orgs/{org}/external-personal-identities"
ACTIVITIES = "/api/v1/orgs/{org}/activities"
SESSIONS = "/api/v1/orgs/{org}/sessions"


# --- The pieces, in-process ----------------------------------------------------------------


def test_the_cache_answers_misses_when_redis_is_unreachable():
    cache = ResilientRedisCache(f"redis://127.0.0.1:{free_port()}/0", {"OPTIONS": {"socket_connect_timeout": 0.5}})
    started = time.monotonic()
    assert cache.get("k", "default") == "default"
    assert cache.add("k", 1) is False
    cache.set("k", 1)
    assert cache.get_many(["k"]) == {}
    assert cache.delete("k") is False
    with pytest.raises(ValueError):  # what a missing key raises: callers fall back to set()
        cache.incr("k")
    assert time.monotonic() - started < 5


@pytest.mark.django_db
def test_a_database_outage_is_a_503_in_the_error_shape_for_the_api(api):
    with mock.patch(
        "apps.organizations.authentication.ApiKeyAuthentication.authenticate",
        side_effect=OperationalError("connection refused"),
    ):
        response = api.get("/api/v1/orgs/acme/external-personal-identities")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {
        "errors": [{"code": "unavailable", "message": "The service is temporarily unavailable; retry shortly."}]
    }


def test_a_database_outage_is_a_503_for_pages_and_api_paths_outside_drf():
    middleware = ApiErrorMiddleware(lambda request: None)
    page = middleware.process_exception(RequestFactory().get("/me/"), OperationalError("down"))
    assert (page.status_code, page["Retry-After"]) == (503, "5")
    api = middleware.process_exception(RequestFactory().get("/api/v1/nowhere"), OperationalError("down"))
    assert api.status_code == 503 and api["Content-Type"] == "application/json"
    assert middleware.process_exception(RequestFactory().get("/me/"), RuntimeError("bug")) is None


@pytest.mark.django_db
def test_an_invitation_that_could_not_be_queued_is_sent_once_by_the_sweep(org, django_capture_on_commit_callbacks):
    with (
        mock.patch("apps.identities.tasks.send_invitation.apply_async", side_effect=ConnectionError("broker down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        identity = make_identity(org, email="late@example.com")  # the request still succeeds
    assert mail.outbox == []
    ExternalPersonalIdentity.objects.filter(pk=identity.pk).update(created_at=identity.created_at.replace(year=2020))

    assert identities_send_unsent_invitations() == 1
    assert identities_send_unsent_invitations() == 0
    assert [m.to for m in mail.outbox] == [["late@example.com"]]


# --- End to end, with servers of their own ---------------------------------------------------


@pytest.fixture
def servers(tmp_path) -> Iterator[tuple[PostgresServer, RedisServer]]:
    postgres, redis = PostgresServer(), RedisServer(tmp_path)
    try:
        postgres.start()
        redis.start()
        yield postgres, redis
    finally:
        redis.stop()
        postgres.destroy()


@pytest.fixture
def receiver() -> Iterator[WebhookSink]:
    started = WebhookSink()
    yield started
    started.stop()


@pytest.fixture
def portal_factory(tmp_path, servers) -> Iterator:
    postgres, redis = servers
    started: list[Portal] = []

    def make(**env: str) -> Portal:
        name = f"portal_{uuid.uuid4().hex[:8]}"
        postgres.create_database(name)
        portal = Portal(tmp_path / name, database_url=postgres.url(name), redis_url=redis.url(0), **env)
        portal.migrate()
        started.append(portal)
        return portal

    yield make
    for portal in started:
        portal.stop()


def _session(key: str) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    return session


def _all_delivered(portal: Portal, org: str, receiver: WebhookSink) -> dict[str, int] | None:
    counts = delivery_counts(portal.database_url, org)
    received = len(set(receiver.webhook_ids()))
    if counts["transitions"] == counts["published"] == counts["events"] == counts["succeeded"] == received:
        return counts
    return None


@needs_servers
def test_writes_succeed_while_redis_is_down_and_every_event_is_delivered_after_it_returns(
    servers, portal_factory, receiver
):
    _, redis = servers
    # Delivery tasks queued before the outage are lost with Redis's memory: the relay queues them
    # again after WEBHOOKS_REQUEUE_AFTER_SECONDS (60 by default).
    portal = portal_factory(WEBHOOKS_REQUEUE_AFTER_SECONDS="3")
    ids = portal.bootstrap(receiver.url())
    org = ids["org"]
    portal.start_all()
    http = _session(ids["key"])
    base = portal.base_url
    wait_until(
        lambda: _all_delivered(portal, org, receiver), "the setup's events to be delivered", 60, *portal.processes
    )

    redis.stop()
    started = time.monotonic()
    slowest = 0.0
    answers = []
    for n in range(3):
        calls = [
            (
                "POST",
                IDENTITIES,
                {"emailAddress": f"outage{n}@example.com", "firstName": "Out", "lastName": "Age", "managed": True},
            ),
            ("PATCH", f"{IDENTITIES}/{ids['initiator']}", {"firstName": f"Bank{n}"}),
            (
                "POST",
                ACTIVITIES,
                {
                    "type": "AT_001",
                    "initiator_id": ids["initiator"],
                    "receptor_id": ids["receptor"],
                    "purpose": "Open an account",
                    "requirements": [{"detail": "first_name", "required": True}],
                },
            ),
            ("POST", SESSIONS, {"scopes": ["first_name"]}),
            ("GET", IDENTITIES, None),
        ]
        for method, path, body in calls:
            t0 = time.monotonic()
            response = http.request(method, base + path.format(org=org), json=body, timeout=20)
            slowest = max(slowest, time.monotonic() - t0)
            answers.append((method, path, response.status_code, response.text[:300]))
    created = [a for a in answers if a[0] == "POST"]
    failed = [a for a in answers if not 200 <= a[2] < 300]
    assert not failed, f"requests failed while Redis was down: {failed}\n{portal.logs()}"
    assert len(created) == 9
    assert slowest < 10, f"a request took {slowest:.1f} s while Redis was down"
    health = requests.get(f"{base}/healthz", timeout=10)
    assert health.status_code == 503 and health.json()["broker"]["ok"] is False
    outage = time.monotonic() - started

    redis.start()  # empty: whatever was queued before the outage is gone too
    counts = wait_until(
        lambda: _all_delivered(portal, org, receiver), "every event to be delivered", 90, *portal.processes
    )
    # 3 invited identities and 3 pending activities and 3 sessions during the outage, at least.
    assert counts["transitions"] >= 4 + 9
    assert len(receiver.webhook_ids()) >= counts["succeeded"]
    print(f"redis outage {outage:.1f} s, slowest request {slowest:.2f} s, delivered afterwards: {counts}")


@needs_servers
def test_a_worker_killed_mid_task_runs_it_again_and_the_effect_happens_once(portal_factory, receiver):
    smtp = StallingSmtpServer()
    try:
        portal = portal_factory(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(smtp.port),
            CELERY_VISIBILITY_TIMEOUT="3",  # the killed worker's unacknowledged task comes back after 3 s
        )
        ids = portal.bootstrap(receiver.url())
        portal.start_web()
        first = portal.start_worker(concurrency=1, name="first")
        smtp.stalled.set()

        response = _session(ids["key"]).post(
            portal.base_url + IDENTITIES.format(org=ids["org"]),
            json={"emailAddress": "kill@example.com", "firstName": "Kil", "lastName": "Led", "managed": True},
            timeout=20,
        )
        assert response.status_code == 201, response.text
        wait_until(lambda: smtp.connections >= 1, "the invitation task to reach the SMTP server", 30, first)
        time.sleep(0.5)
        first.kill()  # SIGKILL mid-send: no ack, no reject, no shutdown
        smtp.release()
        assert smtp.messages == []
        # Redis hands an unacknowledged message out again once it is older than the visibility
        # timeout; a worker looks for such messages when it starts (and every ~100 s after).
        time.sleep(4)

        second = portal.start_worker(concurrency=1, name="second")
        wait_until(lambda: smtp.messages, "the invitation to be sent again", 45, first, second)
        time.sleep(8)  # more than two visibility timeouts: nothing is sent a second time
        assert len(smtp.messages) == 1, f"{len(smtp.messages)} invitations sent"
        assert b"kill@example.com" in smtp.messages[0]
        assert "send_invitation" in second.log.read_text()
        print(f"killed mid-send; SMTP connections {smtp.connections}, messages {len(smtp.messages)}")
    finally:
        smtp.stop()


@needs_servers
def test_requests_fail_cleanly_with_503_while_the_database_restarts_and_then_recover(servers, portal_factory, receiver):
    postgres, _ = servers
    # Persistent connections, as in production: each must be noticed broken and replaced.
    portal = portal_factory(CONN_MAX_AGE="60")
    ids = portal.bootstrap(receiver.url())
    portal.start_web(workers=2, threads=4)
    http = _session(ids["key"])
    identities = portal.base_url + IDENTITIES.format(org=ids["org"])
    for _ in range(8):  # every gunicorn thread opens its persistent connection
        assert http.get(identities, timeout=10).status_code == 200

    postgres.stop()
    answers = []
    for n in range(4):
        for method, url, body in [
            ("GET", identities, None),
            (
                "POST",
                identities,
                {"emailAddress": f"down{n}@example.com", "firstName": "Do", "lastName": "Wn", "managed": True},
            ),
            ("GET", f"{portal.base_url}/healthz", None),
            ("GET", f"{portal.base_url}/accounts/login/", None),
        ]:
            t0 = time.monotonic()
            response = requests.request(method, url, json=body, headers=http.headers, timeout=15)
            answers.append((method, url, response, time.monotonic() - t0))

    for method, url, response, took in answers:
        assert took < 5, f"{method} {url} took {took:.1f} s"
        if url.endswith("/accounts/login/"):
            assert response.status_code in (200, 503), (url, response.status_code, response.text[:200])
            continue
        assert response.status_code == 503, (method, url, response.status_code, response.text[:300])
        if "/api/" in url:
            assert response.headers["Retry-After"] == "5"
            assert response.json()["errors"][0]["code"] == "unavailable"
        else:
            assert response.json()["database"]["ok"] is False

    slowest = max(took for *_, took in answers)
    postgres.start()
    restarted = time.monotonic()
    wait_until(lambda: requests.get(f"{portal.base_url}/healthz", timeout=5).status_code == 200, "healthz", 30)
    recovered = time.monotonic() - restarted
    statuses = [http.get(identities, timeout=10).status_code for _ in range(16)]
    assert statuses == [200] * 16, f"{statuses}\n{portal.logs()}"
    created = http.post(
        identities,
        json={"emailAddress": "back@example.com", "firstName": "Ba", "lastName": "Ck", "managed": True},
        timeout=10,
    )
    assert created.status_code == 201, created.text
    print(
        f"database down: {len(answers)} requests, statuses {sorted({r.status_code for _, _, r, _ in answers})}, "
        f"slowest {slowest:.2f} s; healthy {recovered:.1f} s after the restart"
    )
