"""Soak: mixed API traffic at a steady rate against real processes for a while; nothing may
fail, leak or be lost.

    python -m tests.reliability.soak --minutes 10        (make soak; SOAK_MINUTES overrides)

It recreates its own database on the PostgreSQL server (SOAK_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/portal_soak) and uses its own Redis db and a queue of its own
(SOAK_REDIS_URL, default redis://127.0.0.1:6379/7), starts gunicorn, a Celery worker and beat,
and a webhook receiver on 127.0.0.1 subscribed to every event. A pacer issues requests at a
fixed rate from a thread pool: identities created, renamed and switched ACTIVE ↔ DEACTIVATED,
activities created and withdrawn, data-transfer sessions created and polled, lists and details
read. At the end it checks:

- every request answered 2xx (errors == 0);
- latency p50/p99;
- web and worker memory (RSS of each process tree) after warm-up and at the end: growth
  within a tolerance;
- PostgreSQL connections to the database (pg_stat_activity), sampled throughout: never above
  the processes' pool (web workers x threads + worker processes + beat);
- every audit transition published as an event and delivered exactly once (succeeded
  deliveries == transitions == distinct webhook ids received).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests

from tests.reliability.faults_support import Portal, WebhookSink, delivery_counts, rss_kib, wait_until

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_soak"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
WEB_WORKERS, WEB_THREADS, WORKER_CONCURRENCY = 2, 4, 2


def _with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def recreate_database(database_url: str) -> None:
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(_with_path(database_url, "/postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def connection_count(database_url: str) -> int:
    """Other sessions on the soak database (this query's own excluded)."""
    import psycopg

    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(_with_path(database_url, "/postgres"), connect_timeout=5) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()[0]


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    by_op: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.append(seconds)
            self.by_op[op] += 1
            if error:
                self.errors.append(f"{op}: {error}")


class Traffic:
    """The request mix. Every operation is chosen so that a correct portal answers 2xx."""

    def __init__(self, base_url: str, ids: dict[str, str], stats: Stats) -> None:
        self.base = base_url
        self.org = ids["org"]
        self.ids = ids
        self.stats = stats
        self.local = threading.local()
        self.lock = threading.RLock()
        self.identities: list[str] = []
        self.toggles: dict[str, str] = {}  # ACTIVE identities the soak flips, with their state
        self.busy: set[str] = set()
        self.activities: list[str] = []
        self.sessions: list[tuple[str, str, float]] = []  # id, token, last poll
        self.n = 0
        self.ops = [
            (self.create_identity, 8),
            (self.rename_identity, 8),
            (self.toggle_identity, 8),
            (self.create_activity, 8),
            (self.withdraw_activity, 5),
            (self.create_session, 6),
            (self.poll_session, 15),
            (self.list_identities, 12),
            (self.list_activities, 10),
            (self.get_identity, 10),
            (self.health, 5),
        ]

    @property
    def http(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["Authorization"] = f"Bearer {self.ids['key']}"
            # A connection per request: reusing an idle keep-alive connection races with the
            # server closing it (a reset no real client behind a proxy would see).
            self.local.session.headers["Connection"] = "close"
        return self.local.session

    def call(self, op: str, method: str, path: str, body: Any = None, headers: dict | None = None) -> Any:
        started = time.monotonic()
        error = None
        payload = None
        try:
            response = self.http.request(method, self.base + path, json=body, headers=headers, timeout=30)
            if not 200 <= response.status_code < 300:
                error = f"{method} {path} → {response.status_code} {response.text[:200]}"
            elif response.content and response.headers.get("Content-Type", "").startswith("application/json"):
                payload = response.json()
        except requests.RequestException as exc:
            error = f"{method} {path} → {type(exc).__name__}: {exc}"
        self.stats.record(op, time.monotonic() - started, error)
        return payload

    def _next(self) -> int:
        with self.lock:
            self.n += 1
            return self.n

    def one(self) -> None:
        op = random.choices([f for f, _ in self.ops], weights=[w for _, w in self.ops])[0]
        op()

    # --- identities
    def create_identity(self) -> None:
        n = self._next()
        body = {"emailAddress": f"soak{n}-{uuid.uuid4().hex[:6]}@example.com", "firstName": "Soak", "lastName": f"N{n}"}
        created = self.call(
            "create_identity",
            "POST",
            f"/api/v1/orgs/{self.org}/external-personal-identities",
            {
                **body,
                "managed": True,
            },
        )
        if created:
            with self.lock:
                self.identities.append(created["id"])

    def _pick(self, items: list[str]) -> str | None:
        with self.lock:
            return random.choice(items) if items else None

    def rename_identity(self) -> None:
        identity = self._pick(self.identities) or self.ids["initiator"]
        path = f"/api/v1/orgs/{self.org}/external-personal-identities/{identity}"
        self.call("rename_identity", "PATCH", path, {"firstName": f"Renamed{self._next()}"})

    def toggle_identity(self) -> None:
        with self.lock:
            free = [i for i in self.toggles if i not in self.busy]
            identity = random.choice(free) if free else None
            if identity is not None:
                self.busy.add(identity)
                target = "DEACTIVATED" if self.toggles[identity] == "ACTIVE" else "ACTIVE"
        if identity is None:  # every one is being switched right now
            return self.get_identity()
        try:
            path = f"/api/v1/orgs/{self.org}/external-personal-identities/{identity}"
            changed = self.call("toggle_identity", "PATCH", path, {"state": target})
            if changed:
                with self.lock:
                    self.toggles[identity] = changed["state"]
        finally:
            with self.lock:
                self.busy.discard(identity)
        return None

    def get_identity(self) -> None:
        identity = self._pick(self.identities) or self.ids["receptor"]
        self.call("get_identity", "GET", f"/api/v1/orgs/{self.org}/external-personal-identities/{identity}")

    def list_identities(self) -> None:
        self.call("list_identities", "GET", f"/api/v1/orgs/{self.org}/external-personal-identities")

    # --- activities
    def create_activity(self) -> None:
        body = {
            "type": "AT_001",
            "initiator_id": self.ids["initiator"],
            "receptor_id": self.ids["receptor"],
            "purpose": "Open an account",
            "requirements": [{"detail": "first_name", "required": True}],
        }
        created = self.call("create_activity", "POST", f"/api/v1/orgs/{self.org}/activities", body)
        if created:
            with self.lock:
                self.activities.append(created["id"])

    def withdraw_activity(self) -> None:
        with self.lock:
            activity = self.activities.pop(random.randrange(len(self.activities))) if self.activities else None
        if activity is None:
            return self.create_activity()
        self.call("withdraw_activity", "POST", f"/api/v1/orgs/{self.org}/activities/{activity}/withdraw")
        return None

    def list_activities(self) -> None:
        self.call("list_activities", "GET", f"/api/v1/orgs/{self.org}/activities")

    # --- data-transfer sessions
    def create_session(self) -> None:
        created = self.call("create_session", "POST", f"/api/v1/orgs/{self.org}/sessions", {"scopes": ["first_name"]})
        if created:
            with self.lock:
                self.sessions.append((created["session_id"], created["session_token"], 0.0))
                del self.sessions[:-50]  # poll the recent ones

    def poll_session(self) -> None:
        now = time.monotonic()
        with self.lock:
            ready = [i for i, (_, _, last) in enumerate(self.sessions) if now - last >= 1.0]
            if not ready:
                chosen = None
            else:
                index = random.choice(ready)
                chosen = self.sessions[index]
                self.sessions[index] = (chosen[0], chosen[1], now)
        if chosen is None:
            return self.list_identities()
        session_id, token, _ = chosen
        self.call("poll_session", "GET", f"/api/v1/session/{session_id}/status", headers={"X-Session-Token": token})
        return None

    def health(self) -> None:
        self.call("health", "GET", "/healthz")


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def run(
    *,
    minutes: float,
    rate: float = 20.0,
    database_url: str = DEFAULT_DATABASE_URL,
    redis_url: str = DEFAULT_REDIS_URL,
    toggles: int = 6,
    rss_tolerance: float = 0.25,
    rss_slack_kib: int = 40 * 1024,
    workdir: Path | None = None,
    log: Any = print,
) -> dict[str, Any]:
    """Run the soak; returns the figures and `ok` (all checks passed) with `failures`."""
    workdir = workdir or Path(tempfile.mkdtemp(prefix="soak-"))
    duration = minutes * 60
    recreate_database(database_url)
    receiver = WebhookSink()
    portal = Portal(
        workdir,
        database_url=database_url,
        redis_url=redis_url,
        CELERY_TASK_DEFAULT_QUEUE=f"soak-{uuid.uuid4().hex[:8]}",
        CONN_MAX_AGE="60",  # persistent connections, as in production: the pool must stay bounded
    )
    stats = Stats()
    samples: list[int] = []
    try:
        log(f"soak: migrating {urlsplit(database_url).path.lstrip('/')} in {workdir}")
        portal.migrate()
        ids = portal.bootstrap(receiver.url(), slug="soak", extra_parties=toggles)
        web, worker, beat = portal.start_all(workers=WEB_WORKERS, threads=WEB_THREADS, concurrency=WORKER_CONCURRENCY)
        pool = WEB_WORKERS * WEB_THREADS + (WORKER_CONCURRENCY + 1) + 1  # web threads, worker (+ main), beat
        traffic = Traffic(portal.base_url, ids, stats)
        traffic.toggles = dict.fromkeys(ids["extra"], "ACTIVE")

        stop = threading.Event()

        def sample_connections() -> None:
            while not stop.wait(2.0):
                try:
                    samples.append(connection_count(database_url))
                except Exception as exc:  # reported as an error below
                    stats.record("pg_stat_activity", 0.0, f"{type(exc).__name__}: {exc}")

        sampler = threading.Thread(target=sample_connections, daemon=True)
        sampler.start()

        warmup = min(60.0, duration * 0.2)
        rss: dict[str, dict[str, int]] = {}
        log(f"soak: {minutes:g} min at {rate:g} req/s against {portal.base_url} (warm-up {warmup:.0f} s)")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=16) as pool_executor:
            i = 0
            next_report = started + 60
            while (now := time.monotonic()) < started + duration:
                due = started + i / rate
                if due > now:
                    time.sleep(due - now)
                pool_executor.submit(traffic.one)
                i += 1
                if i - len(stats.latencies) > rate * 60:
                    raise AssertionError(
                        f"the load generator stalled: {i} requests issued, {len(stats.latencies)} done"
                    )
                if "start" not in rss and time.monotonic() >= started + warmup:
                    rss["start"] = {"web": rss_kib(web.pid), "worker": rss_kib(worker.pid), "beat": rss_kib(beat.pid)}
                if time.monotonic() >= next_report:
                    next_report += 60
                    log(
                        f"soak: {len(stats.latencies)} requests, {len(stats.errors)} errors, connections {samples[-1:]}"
                    )
                for process in (web, worker, beat):
                    if not process.alive():
                        raise AssertionError(f"{process.name} died\n{process.output()}")
        elapsed = time.monotonic() - started
        rss["end"] = {"web": rss_kib(web.pid), "worker": rss_kib(worker.pid), "beat": rss_kib(beat.pid)}
        stop.set()
        sampler.join(timeout=10)

        log("soak: traffic done; waiting for every event to be delivered")
        settled_at = time.monotonic()

        def delivered() -> dict[str, int] | None:
            counts = delivery_counts(database_url, "soak")
            counts["received"] = len(set(receiver.webhook_ids()))
            settled = counts["transitions"] == counts["published"] == counts["events"] == counts["deliveries"]
            return counts if settled and counts["succeeded"] == counts["received"] == counts["events"] else None

        try:
            counts = wait_until(delivered, "every event to be delivered", 180, worker, beat, interval=1.0)
        except AssertionError:
            counts = delivery_counts(database_url, "soak")
            counts["received"] = len(set(receiver.webhook_ids()))
        settle = time.monotonic() - settled_at

        failures: list[str] = []
        if stats.errors:
            failures.append(f"{len(stats.errors)} errors, first: {stats.errors[:5]}")
        for name in ("web", "worker"):
            before, after = rss.get("start", rss["end"])[name], rss["end"][name]
            if after > max(before * (1 + rss_tolerance), before + rss_slack_kib):
                failures.append(f"{name} RSS grew from {before} KiB to {after} KiB")
        if samples and max(samples) > pool:
            failures.append(f"PostgreSQL connections reached {max(samples)} (pool {pool})")
        if counts.get("received") != counts["transitions"] or counts["succeeded"] != counts["transitions"]:
            failures.append(f"not every event delivered: {counts}")
        duplicates = len(receiver.webhook_ids()) - len(set(receiver.webhook_ids()))
        result = {
            "ok": not failures,
            "failures": failures,
            "minutes": minutes,
            "rate": rate,
            "elapsed_seconds": round(elapsed, 1),
            "requests": len(stats.latencies),
            "achieved_rate": round(len(stats.latencies) / elapsed, 2) if elapsed else 0,
            "errors": len(stats.errors),
            "by_operation": dict(stats.by_op),
            "p50_ms": round(statistics.median(stats.latencies) * 1000, 1) if stats.latencies else 0,
            "p99_ms": round(_percentile(stats.latencies, 0.99) * 1000, 1),
            "rss_kib": rss,
            "pg_connections": {
                "first": samples[0] if samples else None,
                "last": samples[-1] if samples else None,
                "max": max(samples) if samples else None,
                "pool": pool,
            },
            "events": counts,
            "duplicate_webhook_posts": duplicates,
            "settle_seconds": round(settle, 1),
        }
        return result
    finally:
        portal.stop()
        receiver.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("SOAK_MINUTES", "10")))
    parser.add_argument("--rate", type=float, default=float(os.environ.get("SOAK_RATE", "20")), help="requests/s")
    parser.add_argument("--database-url", default=os.environ.get("SOAK_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("SOAK_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    if os.environ.get("SOAK_MINUTES"):
        args.minutes = float(os.environ["SOAK_MINUTES"])
    result = run(minutes=args.minutes, rate=args.rate, database_url=args.database_url, redis_url=args.redis_url)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print("soak: OK" if result["ok"] else "soak: FAILED\n  " + "\n  ".join(result["failures"]))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
