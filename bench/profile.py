"""Profile one benchmarked request in-process (cProfile), for the notes on missed targets.

    python -m bench.profile status|get_process|get_activity|post_activity|post_session|nodb|one_row [N]
    python -m bench.profile sweep [N]   # EXPLAIN ANALYZE of one sweep batch among N activities
    python -m bench.profile deliver [N] # N webhook delivery attempts to a receiver on 127.0.0.1

Builds the benchmark database and data as bench/run.py does, sends N requests through the
WSGI handler with production settings (bench.settings) and prints the functions with the
most cumulative and own time. The database is dropped afterwards.
"""

from __future__ import annotations

import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


def _explain_sweep(total: int) -> None:
    """The plan and timings of one batch of the validity sweep half-way through, next to the
    raw UPDATE of the rows still overdue; both rolled back.

    Half of the overdue activities are swept first (as the beat task does, batch by batch) so
    that the batch explained is a typical one: its size is the one the loop reached, and its
    index scan starts where the previous batch ended. The foreign-key checks of the audit rows
    run at commit (deferred); the batch is explained with them made immediate so that their
    cost shows as "Trigger for constraint" lines.
    """
    from unittest import mock

    from django.db import connection, transaction

    from apps.activities import services
    from bench import timers

    overdue, _ = timers._setup(total)
    timers._vacuum()
    swept, size = 0, services.SWEEP_BATCH_FIRST
    for count, seconds in services.activities_sweep_batches():
        swept += count
        size = services._next_batch_size(
            count,
            count,
            seconds,
            services.SWEEP_BATCH_SECONDS,
            services.SWEEP_BATCH_MIN,
            services.SWEEP_BATCH_MAX,
        )
        if swept >= overdue // 2:
            break
    print(f"swept {swept:,} of {overdue:,} overdue; explaining the next batch of {size:,}\n")

    class Explain:
        def __init__(self) -> None:
            self.cursor = connection.cursor()

        def __enter__(self) -> Explain:
            return self

        def __exit__(self, *exc: object) -> None:
            self.cursor.close()

        def execute(self, sql: str, params: object = None) -> None:
            if params is None:  # SET LOCAL synchronous_commit
                self.cursor.execute(sql)
                return
            self.cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self.cursor.execute("EXPLAIN (ANALYZE, BUFFERS, WAL) " + sql, params)
            print("\n".join(row[0] for row in self.cursor.fetchall()))

        def fetchone(self) -> tuple[int, None]:
            return 0, None

    class Rollback(Exception):
        pass

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(valid_until) FROM activities_activity WHERE status = 'PENDING'")
        (after,) = cursor.fetchone()
    try:
        with transaction.atomic():
            connection.ensure_connection()
            with mock.patch.object(services, "connection", mock.Mock(vendor="postgresql", cursor=Explain)):
                services._sweep(services._VALIDITY, batch_size=size, after=after)
            raise Rollback
    except Rollback:
        pass
    print("\nThe raw UPDATE of the rows still overdue, for the cost per row:")
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS, WAL) UPDATE activities_activity SET status = 'CANCELED',"
                " updated_at = now() WHERE status = 'PENDING' AND valid_until <= now()"
            )
            print("\n".join(row[0] for row in cursor.fetchall()))
            raise Rollback
    except Rollback:
        pass


def _profile_deliveries(count: int) -> None:
    """deliveries_attempt in-process (no Celery), in the batches the relay queues: the cost of
    one delivery, end to end but the queue."""
    from apps.organizations.services import organization_create
    from apps.webhooks.delivery import deliveries_attempt
    from apps.webhooks.endpoints import endpoint_create
    from apps.webhooks.models import Delivery
    from apps.webhooks.queue import DELIVERY_BATCH_SIZE
    from apps.webhooks.relay import events_relay
    from bench.webhooks import Receiver, _burst

    receiver = Receiver().start()
    org = organization_create(slug="bench-hooks", name="Bench hooks")
    endpoint_create(organization=org, url=f"http://127.0.0.1:{receiver.port}/hook", events=["activity.status_changed"])
    _burst(org.pk, count)
    while events_relay():
        pass
    ids = list(Delivery.objects.values_list("pk", flat=True))
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for start in range(0, len(ids), DELIVERY_BATCH_SIZE):
        deliveries_attempt(delivery_ids=ids[start : start + DELIVERY_BATCH_SIZE])
    profiler.disable()
    elapsed = time.perf_counter() - started
    receiver.stop()
    print(
        f"deliver: {len(ids)} attempts in {elapsed:.2f}s = {elapsed / len(ids) * 1e6:.0f} µs/delivery (received {receiver.count})"
    )
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
        print(out.getvalue())


def main() -> int:
    what = sys.argv[1] if len(sys.argv) > 1 else "status"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    common.apply_env()
    common.database_create()
    common.redis_flush()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.test import Client

        from bench import fixtures

        call_command("migrate", verbosity=0, interactive=False)
        if what == "sweep":
            _explain_sweep(count)
            return 0
        if what == "deliver":
            _profile_deliveries(count)
            return 0
        fx = fixtures.build(sessions=50, activities=120, processes=120)
        client = Client(HTTP_HOST="127.0.0.1")
        auth = {"HTTP_AUTHORIZATION": f"Bearer {fx['api_key']}"}
        org = fx["org"]
        sid, token = fx["sessions"][0]
        calls = {
            "nodb": lambda: client.get("/bench/nodb"),
            "one_row": lambda: client.get("/bench/one-row/5"),
            "insert": lambda: client.post("/bench/insert", b"{}", content_type="application/json"),
            "status": lambda: client.get(f"/api/v1/session/{sid}/status", HTTP_X_SESSION_TOKEN=token),
            "get_process": lambda: client.get(f"/api/v1/orgs/{org}/processes/{fx['processes'][0]}", **auth),
            "get_activity": lambda: client.get(f"/api/v1/orgs/{org}/activities/{fx['activities'][0]}", **auth),
            "list_activities_100": lambda: client.get(f"/api/v1/orgs/{org}/activities?page_size=100", **auth),
            "post_activity": lambda: client.post(
                f"/api/v1/orgs/{org}/activities", fixtures.activity_body(fx), content_type="application/json", **auth
            ),
            "post_session": lambda: client.post(
                f"/api/v1/orgs/{org}/sessions", fixtures.session_body(), content_type="application/json", **auth
            ),
        }
        call = calls[what]
        for _ in range(50):
            response = call()
            assert response.status_code < 300, (response.status_code, response.content[:300])
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(count):
            call()
        profiler.disable()
        elapsed = time.perf_counter() - started
        print(f"{what}: {count} requests in {elapsed:.2f}s in-process = {elapsed / count * 1e6:.0f} µs/request")
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(25)
            print(out.getvalue())
    finally:
        from django.db import connections

        connections.close_all()
        common.database_drop()
        common.redis_flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
