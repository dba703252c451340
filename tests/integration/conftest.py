"""A real Celery worker (with embedded beat) on Redis, sharing the test database with the test.

Needs REDIS_URL and PostgreSQL (DATABASE_URL=postgres://…), as in CI; skipped otherwise.
Each test gets its own Redis queue, so stale messages of other runs never reach its worker.
The test process queues nothing itself: the worker's beat-driven relay publishes what the
test commits, and the worker delivers it to a receiver on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from unittest import mock
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection

from tests.webhooks.conftest import Received, Receiver, Reply

REDIS_URL = os.environ.get("REDIS_URL", "")


def skip_reason() -> str:
    if not REDIS_URL:
        return "needs a real Celery worker on Redis: set REDIS_URL (CI: redis://127.0.0.1:6379/15)"
    if connection.vendor != "postgresql":
        return (
            "needs PostgreSQL (DATABASE_URL=postgres://…): a separate worker process shares the test "
            "database, which SQLite can't do"
        )
    return ""


READY_TIMEOUT = 30.0
WAIT_TIMEOUT = 60.0


class RecordingReceiver(Receiver):
    """The webhooks tests' receiver, also remembering which reply answered which request."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.replies: list[tuple[Received, Reply]] = []
        super().__init__(host)

    def _record(self, request: Received) -> Reply:
        reply = super()._record(request)
        self.replies.append((request, reply))
        return reply


@pytest.fixture
def receiver() -> Iterator[RecordingReceiver]:
    started = RecordingReceiver()
    yield started
    started.stop()


class Worker:
    """One `celery worker -B` process group; its output goes to a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the embedded beat dies with it
            )

    def output(self, tail: int = 80) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.log.name} (last {tail} lines) ---\n" + "\n".join(lines[-tail:])

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited with {self.proc.returncode}\n{self.output()}")
            if " ready." in self.log.read_text(errors="replace"):
                return
            time.sleep(0.1)
        raise AssertionError(f"the worker was not ready after {timeout:.0f} s\n{self.output()}")

    def kill(self) -> None:
        """SIGKILL the whole group, as a crash or an OOM kill would: no shutdown, no acks, no restore."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Warm shutdown (Celery returns unacked messages to the queue), then make sure the group is gone."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass
        self.kill()  # also the embedded beat, should it have outlived the worker


def _database_url() -> str:
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(str(db.get("PASSWORD") or ""), safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def _worker_env(queue: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PYTEST_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=_database_url(),
        CELERY_BROKER_URL=REDIS_URL,
        REDIS_URL=REDIS_URL,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        # The worker must read and write what the test does: the same keys as the test settings.
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        FIELD_HMAC_KEY=settings.FIELD_HMAC_KEY,
        WEBHOOKS_ALLOW_PRIVATE_NETWORKS="true",  # the receiver is on 127.0.0.1
        WEBHOOKS_REQUEUE_AFTER_SECONDS="3",  # lost tasks are queued again quickly
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DEBUG="false",
        PYTHONUNBUFFERED="1",
    )
    return env


def _forget_queue(queue: str) -> None:
    """Drop the test's queue and its bindings, and messages a killed worker left unacknowledged."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
        for member in client.smembers("_kombu.binding.celery.pidbox"):
            if f"\x06\x16{queue}-".encode() in member:  # the workers' remote-control bindings
                client.srem("_kombu.binding.celery.pidbox", member)
        for tag, raw in client.hgetall("unacked").items():
            try:
                _, exchange, routing_key = json.loads(raw)
            except (ValueError, TypeError):
                continue
            if queue in (exchange, routing_key):
                client.hdel("unacked", tag)
                client.zrem("unacked_index", tag)
    finally:
        client.close()


def _wait_for_other_connections_to_close(timeout: float = 10.0) -> None:
    """A killed worker's sessions must be gone before the test database is flushed or dropped."""
    deadline = time.monotonic() + timeout
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.1)


@pytest.fixture
def queue() -> str:
    return f"integration-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def start_worker(transactional_db, tmp_path, queue) -> Iterator[Callable[[], Worker]]:
    """Start a worker (with embedded beat, so the relay runs every 2 s) and wait until it is ready.

    Teardown stops every worker it started before the database is flushed.
    """
    started: list[Worker] = []
    env = _worker_env(queue)

    def start() -> Worker:
        n = len(started) + 1
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-B",
            f"--schedule={tmp_path / f'beat-schedule-{n}'}",
            "-Q",
            queue,
            "-n",
            f"{queue}-{n}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        worker = Worker(command, env, tmp_path / f"worker-{n}.log")
        started.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in started:
        worker.stop()
    _forget_queue(queue)
    _wait_for_other_connections_to_close()


@pytest.fixture
def no_delivery_here() -> Iterator[dict[str, Any]]:
    """The test process queues no relay and no delivery: only the worker publishes and sends."""
    with (
        mock.patch("apps.webhooks.tasks.relay_events.delay") as relay,
        mock.patch("apps.webhooks.tasks.deliver.apply_async") as deliver,
    ):
        yield {"relay": relay, "deliver": deliver}


def wait_for(check: Callable[[], Any], what: str, *workers: Worker, timeout: float = WAIT_TIMEOUT) -> Any:
    """Poll `check` until it returns something truthy; fail with the workers' logs after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = "\n".join(w.output() for w in workers)
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
        time.sleep(0.05)
