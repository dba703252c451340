"""Scale-out run: two web processes behind one port, two Celery workers and one beat on the same
PostgreSQL and Redis, a mixed load, and one web process and one worker killed mid-run.

    python -m bench.scaleout --minutes 3 --rate 30        (make scaleout)

What it starts (all on 127.0.0.1, in a database and Redis db of its own, recreated):
- gunicorn "web-a" and "web-b", each 2 workers x 4 threads, on two ports;
- a TCP proxy on a third port in front of them, round robin, which tries the other backend when
  a connection to one is refused (as HAProxy's `retries` + `option redispatch`, or an nginx
  upstream with `proxy_next_upstream error`, would);
- Celery "worker-a" and "worker-b" (2 processes each) and one beat;
- a webhook receiver subscribed to every event, which deduplicates by `webhook-id`.

The load is the soak's request mix (tests/reliability/soak.py) through the proxy. At 35% of the
run web-a is killed with SIGKILL (its whole process group, as a host lost); at 55% worker-a is.
At the end it checks:
- requests: every one answered 2xx, except at most the connections web-a held when it died
  (the proxy counts them at the moment of the kill); nothing failed after the kill settled;
- events: every audit transition became one event and one delivery, every delivery succeeded,
  and the receiver saw each event's webhook-id (none lost); deliveries repeated with the same
  webhook-id (a worker killed after sending, before recording) are counted and are harmless to
  a receiver that deduplicates; two different webhook-ids for one event would be a failure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from tests.reliability.faults_support import (
    PYTHON,
    Portal,
    Process,
    WebhookSink,
    delivery_counts,
    free_port,
    wait_until,
)
from tests.reliability.soak import Stats, Traffic, _percentile, recreate_database

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/portal_scaleout"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"
WEB_WORKERS, WEB_THREADS, WORKER_CONCURRENCY = 2, 4, 2


class TcpProxy:
    """Round robin over backends; a refused connection is retried on the next backend.

    Hand-written (60 lines of asyncio) rather than HAProxy or nginx so the run needs nothing
    outside the repository's requirements; it does what those do with retries on connect errors.
    """

    def __init__(self, backends: list[tuple[str, int]]) -> None:
        self.backends = backends
        self.port = free_port()
        self.active: dict[int, int] = dict.fromkeys(range(len(backends)), 0)
        self.served: dict[int, int] = dict.fromkeys(range(len(backends)), 0)
        # (opened, closed) of every connection to each backend, on the monotonic clock
        self.spans: dict[int, list[tuple[float, float]]] = {i: [] for i in range(len(backends))}
        self.redispatched = 0
        self.refused = 0
        self._next = itertools.cycle(range(len(backends)))
        self._loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._started.wait(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=512))
        self._started.set()
        with contextlib.suppress(RuntimeError):
            self._loop.run_forever()
        server.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        with contextlib.suppress(ConnectionError, OSError, RuntimeError):
            writer.close()

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        first = next(self._next)
        for attempt in range(len(self.backends)):
            index = (first + attempt) % len(self.backends)
            try:
                backend_reader, backend_writer = await asyncio.open_connection(*self.backends[index])
            except OSError:
                self.redispatched += 1
                continue
            self.active[index] += 1
            self.served[index] += 1
            opened = time.monotonic()
            try:
                await asyncio.gather(
                    self._pipe(client_reader, backend_writer), self._pipe(backend_reader, client_writer)
                )
            finally:
                self.active[index] -= 1
                self.spans[index].append((opened, time.monotonic()))
            return
        self.refused += 1
        client_writer.close()

    def open_during(self, backend: int, start: float, end: float) -> int:
        """Connections to `backend` open at some moment between `start` and `end`: those a process
        killed in that interval (from the signal until it is gone) drops."""
        return sum(1 for opened, closed in self.spans[backend] if opened <= end and closed >= start)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


def _web(portal: Portal, name: str, port: int) -> Process:
    command = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(WEB_WORKERS), "--threads", str(WEB_THREADS), "--timeout", "30"]
    command += ["--graceful-timeout", "5"]
    process = Process(name, command, env=portal.env, log_dir=portal.dir)
    portal.processes.append(process)
    return process


def _wait_healthy(port: int, process: Process) -> None:
    url = f"http://127.0.0.1:{port}/healthz"
    wait_until(lambda: requests.get(url, timeout=2).status_code == 200, process.name, 60, process)


def _wait_refused(port: int, timeout: float = 10.0) -> None:
    """Until nothing accepts connections on `port` (a killed gunicorn's workers may outlive its
    master by a few milliseconds, and accept into the listening socket until then)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return
        time.sleep(0.01)


def run(
    *,
    minutes: float,
    rate: float,
    database_url: str = DEFAULT_DATABASE_URL,
    redis_url: str = DEFAULT_REDIS_URL,
    log: Any = print,
) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="scaleout-"))
    duration = minutes * 60
    recreate_database(database_url)
    receiver = WebhookSink()
    port_a, port_b = free_port(), free_port()
    proxy = TcpProxy([("127.0.0.1", port_a), ("127.0.0.1", port_b)])
    portal = Portal(
        workdir,
        database_url=database_url,
        redis_url=redis_url,
        CELERY_TASK_DEFAULT_QUEUE=f"scaleout-{uuid.uuid4().hex[:8]}",
        CONN_MAX_AGE="60",
        PUBLIC_BASE_URL=proxy.url,
        # A task lost with its worker is redelivered by the broker after this long; the
        # relay also re-queues a delivery that stayed unsent (WEBHOOKS_REQUEUE_AFTER_SECONDS).
        CELERY_VISIBILITY_TIMEOUT="30",
    )
    stats = Stats()
    kills: dict[str, Any] = {}
    try:
        log(f"scale-out: migrating {urlsplit(database_url).path.lstrip('/')} in {workdir}")
        portal.migrate()
        ids = portal.bootstrap(receiver.url(), slug="scaleout", extra_parties=6)
        web_a, web_b = _web(portal, "web-a", port_a), _web(portal, "web-b", port_b)
        worker_a = portal.start_worker(WORKER_CONCURRENCY, name="worker-a", wait=False)
        worker_b = portal.start_worker(WORKER_CONCURRENCY, name="worker-b", wait=False)
        beat = portal.start_beat(wait=False)
        _wait_healthy(port_a, web_a)
        _wait_healthy(port_b, web_b)
        for process in (worker_a, worker_b):
            process.wait_for_log(" ready.", timeout=60)
        beat.wait_for_log("beat: Starting", timeout=60)

        traffic = Traffic(proxy.url, ids, stats)
        traffic.toggles = dict.fromkeys(ids["extra"], "ACTIVE")
        plan = [(0.35, "web-a", web_a), (0.55, "worker-a", worker_a)]
        log(f"scale-out: {minutes:g} min at {rate:g} req/s through {proxy.url} (web-a :{port_a}, web-b :{port_b})")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as executor:
            i = 0
            while (now := time.monotonic()) < started + duration:
                due = started + i / rate
                if due > now:
                    time.sleep(due - now)
                executor.submit(traffic.one)
                i += 1
                if plan and now >= started + plan[0][0] * duration:
                    _, name, process = plan.pop(0)
                    errors_before = len(stats.errors)
                    killed_at = time.monotonic()
                    process.kill()  # SIGKILL to the group, then waits for its leader
                    if name == "web-a":
                        _wait_refused(port_a)  # the last worker holding the socket is gone too
                    kills[name] = {
                        "at_seconds": round(killed_at - started, 1),
                        "monotonic": (killed_at, time.monotonic()),
                        "requests_before": len(stats.latencies),
                        "errors_before": errors_before,
                    }
                    log(f"scale-out: killed {name} at {killed_at - started:.0f} s")
                for process in (web_b, worker_b, beat):
                    if not process.alive():
                        raise AssertionError(f"{process.name} died\n{process.output()}")
        elapsed = time.monotonic() - started

        log("scale-out: traffic done; waiting for every event to be delivered")
        settled_at = time.monotonic()

        def delivered() -> dict[str, int] | None:
            counts = delivery_counts(database_url, "scaleout")
            counts["received"] = len(set(receiver.webhook_ids()))
            settled = counts["transitions"] == counts["published"] == counts["events"] == counts["deliveries"]
            return counts if settled and counts["succeeded"] == counts["received"] == counts["events"] else None

        try:
            counts = wait_until(delivered, "every event to be delivered", 300, worker_b, beat, interval=1.0)
        except AssertionError:
            counts = delivery_counts(database_url, "scaleout")
            counts["received"] = len(set(receiver.webhook_ids()))
        settle = time.monotonic() - settled_at
        posts = receiver.webhook_ids()
        duplicates = len(posts) - len(set(posts))

        failures: list[str] = []
        if "web-a" in kills:
            kills["web-a"]["connections_it_held"] = proxy.open_during(0, *kills["web-a"]["monotonic"])
        for kill in kills.values():
            kill.pop("monotonic")
        allowed = kills.get("web-a", {}).get("connections_it_held", 0)
        if len(stats.errors) > allowed:
            failures.append(
                f"{len(stats.errors)} failed requests, more than the {allowed} connections web-a held "
                f"when it died; first: {stats.errors[:5]}"
            )
        if counts["received"] != counts["transitions"] or counts["succeeded"] != counts["transitions"]:
            failures.append(f"not every event delivered: {counts}")
        if counts["events"] != counts["transitions"]:
            failures.append(f"events and transitions differ: {counts}")
        return {
            "ok": not failures,
            "failures": failures,
            "minutes": minutes,
            "rate": rate,
            "elapsed_seconds": round(elapsed, 1),
            "requests": len(stats.latencies),
            "achieved_rate": round(len(stats.latencies) / elapsed, 2) if elapsed else 0,
            "failed_requests": len(stats.errors),
            "failed_request_samples": stats.errors[:5],
            "by_operation": dict(stats.by_op),
            "p50_ms": round(_percentile(stats.latencies, 0.5) * 1000, 1),
            "p99_ms": round(_percentile(stats.latencies, 0.99) * 1000, 1),
            "kills": kills,
            "proxy": {
                "served_by_backend": {"web-a": proxy.served[0], "web-b": proxy.served[1]},
                "redispatched_after_refusal": proxy.redispatched,
                "refused_by_both": proxy.refused,
            },
            "events": counts,
            "repeated_webhook_posts_same_id": duplicates,
            "settle_seconds": round(settle, 1),
        }
    finally:
        portal.stop()
        proxy.stop()
        receiver.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--rate", type=float, default=30.0, help="requests/s")
    parser.add_argument("--database-url", default=os.environ.get("SCALEOUT_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--redis-url", default=os.environ.get("SCALEOUT_REDIS_URL", DEFAULT_REDIS_URL))
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    result = run(minutes=args.minutes, rate=args.rate, database_url=args.database_url, redis_url=args.redis_url)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print("scale-out: OK" if result["ok"] else "scale-out: FAILED\n  " + "\n  ".join(result["failures"]))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
