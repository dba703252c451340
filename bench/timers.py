"""Benchmark 3: the activities deadline sweep at scale vs one raw SQL UPDATE of the same rows.

N activities (2,000,000 in full mode), half of them pending past valid_until. In the same run:
the raw `UPDATE ... SET status = 'CANCELED', updated_at = now()` of exactly the overdue rows
(timed, then rolled back and vacuumed away), then the sweep as beat runs it
(apps.activities.services.activities_sweep_batches, the loop of the beat task), each batch its
own transaction, sized to its time target and timed one by one: the longest batch is the
longest any row lock is held. Then a second sweep, which must change nothing.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from django.db import connection, transaction

from bench.common import Scale, check, print_check


def _setup(total: int) -> tuple[int, Any]:
    from apps.audit.services import Actor
    from apps.identities.services import identity_create
    from apps.organizations.services import organization_create

    org = organization_create(slug="bench-timers", name="Bench timers")
    actor = Actor.system("benchmark")
    a, b = (
        identity_create(
            organization=org,
            email_address=f"{n}@timers.example",
            first_name=n,
            last_name="T",
            managed=True,
            actor=actor,
        )
        for n in ("initiator", "receptor")
    )
    overdue = total // 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        (now,) = cursor.fetchone()
        cursor.execute(
            """
            INSERT INTO activities_activity (
                id, organization_id, type, initiator_id, receptor_id, requirements, offered_details, purpose,
                status, valid_until, accepted_details, created_at, updated_at)
            SELECT gen_random_uuid(), %(org)s, 'AT_001', %(a)s, %(b)s,
                '[{"detail": "first_name", "required": true}]'::jsonb, '[]'::jsonb, 'bench',
                'PENDING',
                CASE WHEN n <= %(overdue)s THEN %(now)s - (n || ' seconds')::interval - interval '1 hour'
                     ELSE %(now)s + interval '7 days' + (n || ' seconds')::interval END,
                '[]'::jsonb, %(now)s - interval '8 days', %(now)s - interval '8 days'
            FROM generate_series(1, %(total)s) n
            """,
            {"org": org.pk, "a": a.pk, "b": b.pk, "overdue": overdue, "now": now, "total": total},
        )
    return overdue, now


def _vacuum() -> None:
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE activities_activity")
        cursor.execute("VACUUM ANALYZE audit_transition")


def _count(sql: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def run(scale: Scale) -> dict[str, Any]:
    from apps.activities.services import SWEEP_BATCH_SECONDS, activities_sweep_batches

    total = scale.activities
    print(f"\n[3] Timers at scale: {total:,} activities, {total // 2:,} overdue; sweep vs one raw UPDATE")
    started = time.perf_counter()
    overdue, _ = _setup(total)
    _vacuum()
    print(f"  generated in {time.perf_counter() - started:.1f} s")
    transitions_before = _count("SELECT count(*) FROM audit_transition")

    # Baseline: one raw UPDATE of the same rows, in a transaction that is then rolled back.
    class Rollback(Exception):
        pass

    raw_rows = 0
    raw_started = time.perf_counter()
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE activities_activity SET status = 'CANCELED', updated_at = now()"
                    " WHERE status = 'PENDING' AND valid_until <= now()"
                )
                raw_rows = cursor.rowcount
            raw_seconds = time.perf_counter() - raw_started
            raise Rollback
    except Rollback:
        pass
    _vacuum()
    print(f"  raw UPDATE: {raw_rows:,} rows in {raw_seconds:.2f} s ({raw_rows / raw_seconds:,.0f} rows/s)")

    # The sweep, batch by batch, as the beat task loops (each batch times its own transaction).
    batches: list[float] = []
    sizes: list[int] = []
    swept = 0
    sweep_started = time.perf_counter()
    for count, seconds in activities_sweep_batches():
        batches.append(seconds)
        sizes.append(count)
        swept += count
    sweep_seconds = time.perf_counter() - sweep_started
    again = sum(count for count, _ in activities_sweep_batches())
    canceled = _count("SELECT count(*) FROM activities_activity WHERE status = 'CANCELED'")
    audit_rows = _count("SELECT count(*) FROM audit_transition") - transitions_before
    batches_ms = sorted(b * 1000 for b in batches)
    figures = {
        "activities": total,
        "overdue": overdue,
        "raw_update_rows": raw_rows,
        "raw_update_seconds": round(raw_seconds, 2),
        "raw_update_rows_per_s": round(raw_rows / raw_seconds),
        "sweep_rows": swept,
        "sweep_seconds": round(sweep_seconds, 2),
        "sweep_rows_per_s": round(swept / sweep_seconds) if sweep_seconds else 0,
        "batch_target_ms": round(SWEEP_BATCH_SECONDS * 1000),
        "batches": len(batches),
        "batch_rows_median": round(statistics.median(sizes)) if sizes else 0,
        "batch_rows_max": max(sizes, default=0),
        "batch_ms_median": round(statistics.median(batches_ms), 1) if batches_ms else 0,
        "batch_ms_p99": round(batches_ms[min(len(batches_ms) - 1, int(0.99 * len(batches_ms)))], 1)
        if batches_ms
        else 0,
        "batch_ms_max": round(batches_ms[-1], 1) if batches_ms else 0,
        "canceled_after": canceled,
        "audit_rows_written": audit_rows,
        "second_sweep_changed": again,
    }
    print(
        f"  sweep: {swept:,} rows in {sweep_seconds:.2f} s ({figures['sweep_rows_per_s']:,} rows/s), "
        f"{len(batches)} batches (median {figures['batch_rows_median']:,} rows, largest {figures['batch_rows_max']:,}; "
        f"target {figures['batch_target_ms']} ms): median {figures['batch_ms_median']} ms, "
        f"p99 {figures['batch_ms_p99']} ms, max {figures['batch_ms_max']} ms"
    )
    checks = [
        check("sweep seconds", sweep_seconds, "raw UPDATE seconds", raw_seconds, 1.5, higher=False),
        {
            "name": "longest batch (lock held) ms",
            "value": figures["batch_ms_max"],
            "baseline": "",
            "baseline_value": 0,
            "ratio": 0,
            "target": "≤ 250 ms",
            "passed": figures["batch_ms_max"] <= 250,
        },
        {
            "name": "all overdue expired, one audit row each; second sweep changes nothing",
            "value": f"{canceled:,} canceled, {audit_rows:,} audit rows, second sweep {again}",
            "baseline": "",
            "baseline_value": 0,
            "ratio": 0,
            "target": f"{overdue:,} / {overdue:,} / 0",
            "passed": canceled == overdue == audit_rows == swept and again == 0,
        },
    ]
    for c in checks:
        print_check(c)
    return {"figures": figures, "checks": checks}
