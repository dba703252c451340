"""Benchmark 4: webhook deliveries per second, end to end, with 2 Celery worker processes.

A receiver on 127.0.0.1 answers 204. N audit transitions of an organization whose endpoint
subscribes to their event type are committed at once (as a burst of state changes would be),
the relay is woken as the commit hook wakes it, and the clock runs from that commit until the
receiver has answered N deliveries. The Celery worker runs with --concurrency=2 (two worker
processes), production settings; their RSS is read after a warm-up, every RSS_EVERY deliveries
and after the N deliveries, so that a plateau (the allocator keeping its high-water mark) can be
told from a leak (growth that goes on with the deliveries).
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from django.db import connection

from bench.common import PYTHON, ROOT, Scale, bench_env, free_port, redis_flush

WARMUP = 300
RSS_EVERY = 1000


class Receiver:
    """A minimal keep-alive HTTP/1.1 server in a thread: counts requests, answers 204."""

    def __init__(self) -> None:
        self.port = free_port()
        self.count = 0
        self.last_at = 0.0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                if length:
                    await reader.readexactly(length)
                self.count += 1
                self.last_at = time.perf_counter()
                writer.write(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
        self._ready.set()
        self._loop.run_forever()
        server.close()

    def start(self) -> Receiver:
        self._thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)


def _children_rss_mb(pid: int) -> list[float]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    out = []
    for child in children:
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                out.append(round(int(line.split()[1]) / 1024, 1))
    return out


def _growth(before: list[float], after: list[float]) -> float:
    """The largest RSS growth of a worker process between two samples (MB)."""
    return round(max((b - a for a, b in zip(before, after, strict=False)), default=0.0), 1)


def _burst(org_id: int, count: int) -> None:
    """Commit `count` transitions at once, then wake the relay as the commit hook does."""
    from django.contrib.contenttypes.models import ContentType

    from apps.activities.models import Activity
    from apps.webhooks.tasks import relay_events

    ct = ContentType.objects.get_for_model(Activity).pk
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO audit_transition (content_type_id, object_id, organization_id, from_state, to_state,
                event_type, data, actor_type, actor_id, actor_label, reason, created_at, published_at)
            SELECT %s, gen_random_uuid()::text, %s, 'PENDING', 'CANCELED', 'activity.status_changed',
                jsonb_build_object('n', n), 'system', '', 'benchmark', 'benchmark', now(), NULL
            FROM generate_series(1, %s) n
            """,
            [ct, org_id, count],
        )
    relay_events.delay()


def _wait(
    receiver: Receiver, target: int, cap: float, *, worker_pid: int | None = None, samples: list | None = None
) -> bool:
    """Until the receiver has answered `target` requests (or `cap` s); RSS every RSS_EVERY deliveries."""
    started = time.perf_counter()
    deadline = started + cap
    base = receiver.count
    next_sample = base + RSS_EVERY
    while receiver.count < target and time.perf_counter() < deadline:
        if samples is not None and worker_pid is not None and receiver.count >= next_sample:
            samples.append(
                {
                    "delivered": receiver.count - base,
                    "seconds": round(time.perf_counter() - started, 1),
                    "rss_mb": _children_rss_mb(worker_pid),
                }
            )
            while next_sample <= receiver.count:
                next_sample += RSS_EVERY
        time.sleep(0.02)
    return receiver.count >= target


def run(scale: Scale) -> dict[str, Any]:
    from apps.organizations.services import organization_create
    from apps.webhooks.endpoints import endpoint_create

    total = scale.deliveries
    print(f"\n[4] Webhooks: {total:,} deliveries end to end to a receiver on 127.0.0.1, 2 worker processes")
    redis_flush()  # no tasks left over from the HTTP benchmarks (e.g. session expiry countdowns)
    with connection.cursor() as cursor:  # events of earlier benchmarks are not this one's
        cursor.execute("UPDATE audit_transition SET published_at = now() WHERE published_at IS NULL")
    receiver = Receiver().start()
    org = organization_create(slug="bench-hooks", name="Bench hooks")
    endpoint_create(organization=org, url=f"http://127.0.0.1:{receiver.port}/hook", events=["activity.status_changed"])
    command = [
        PYTHON, "-m", "celery", "-A", "config", "worker", "--concurrency=2", "--pool=prefork",
        "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=WARNING",
    ]  # fmt: skip
    log = (ROOT / "bench" / "results").joinpath("celery-worker.log")
    log.parent.mkdir(exist_ok=True)
    worker = subprocess.Popen(  # noqa: S603
        command, cwd=ROOT, env=bench_env(), start_new_session=True, stdout=log.open("w"), stderr=subprocess.STDOUT
    )
    try:
        _burst(org.pk, WARMUP)
        if not _wait(receiver, WARMUP, 120):
            raise RuntimeError(f"warm-up: only {receiver.count} of {WARMUP} deliveries arrived")
        rss_start = _children_rss_mb(worker.pid)
        series: list[dict[str, Any]] = [{"delivered": 0, "seconds": 0.0, "rss_mb": rss_start}]
        base = receiver.count
        started = time.perf_counter()
        _burst(org.pk, total)
        done = _wait(receiver, base + total, scale.webhook_time_cap, worker_pid=worker.pid, samples=series)
        delivered = receiver.count - base
        seconds = (receiver.last_at if done else time.perf_counter()) - started
        rss_end = _children_rss_mb(worker.pid)
        series.append({"delivered": delivered, "seconds": round(seconds, 1), "rss_mb": rss_end})
    finally:
        worker.send_signal(signal.SIGTERM)  # warm shutdown: the pool finishes its current tasks
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
        receiver.stop()
    with connection.cursor() as cursor:
        cursor.execute("SELECT status, count(*) FROM webhooks_delivery GROUP BY status")
        statuses = dict(cursor.fetchall())
    rate = delivered / seconds if seconds else 0.0
    rows = [[x["delivered"], x["seconds"], *x["rss_mb"]] for x in series]
    figures = {
        "deliveries_target": total,
        "delivered": delivered,
        "seconds": round(seconds, 2),
        "deliveries_per_s": round(rate, 1),
        "all_delivered_within_cap": done,
        "time_cap_s": scale.webhook_time_cap,
        "worker_rss_mb_after_warmup": rss_start,
        "worker_rss_mb_after_run": rss_end,
        # [deliveries so far, seconds since the commit, RSS MB of each worker process]: about ten of
        # the samples here; all of them (one per RSS_EVERY deliveries) in "rss_series".
        "worker_rss_mb_by_deliveries": [rows[i] for i in range(0, len(rows) - 1, max(1, len(rows) // 10))] + [rows[-1]],
        # A plateau reached early shows ~0 here; a leak grows with the deliveries of the second half too.
        "worker_rss_growth_mb_second_half": _growth(series[len(series) // 2]["rss_mb"], rss_end),
        "delivery_statuses": statuses,
    }
    print(
        f"  {delivered:,} deliveries in {seconds:.1f} s = {rate:.1f}/s"
        f"{'' if done else f' (time cap {scale.webhook_time_cap:.0f} s reached)'}; "
        f"worker RSS {rss_start} MB → {rss_end} MB; deliveries by status {statuses}"
    )
    print(
        "  worker RSS (MB) by deliveries: "
        + ", ".join(f"{x['delivered']} ({x['seconds']} s): {x['rss_mb']}" for x in series)
    )
    growth = _growth(rss_start, rss_end)
    checks = [
        {
            "name": "deliveries/s (commit to 2xx)",
            "value": round(rate, 1),
            "baseline": "",
            "baseline_value": 0,
            "ratio": 0,
            "target": "≥ 300/s",
            "passed": rate >= 300,
        },
        {
            "name": f"worker RSS growth over {delivered:,} deliveries (MB)",
            "value": round(growth, 1),
            "baseline": "",
            "baseline_value": 0,
            "ratio": 0,
            "target": "flat (≤ 20 MB)",
            "passed": growth <= 20,
        },
    ]
    for c in checks:
        print(f"  {'PASS' if c['passed'] else 'FAIL'}  {c['name']}: {c['value']} (target {c['target']})")
    return {"figures": figures, "checks": checks, "rss_series": rows}
