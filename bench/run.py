"""`make bench`: every benchmark of docs/benchmarks.md, each next to its baseline in the same run.

    python -m bench.run [--quick] [--only status,reads,creation,webhooks,timers,startup] [--render]

BENCH_QUICK=1 (or --quick) is the ~2-minute development run; BENCH_SCALE multiplies the data
sizes (activities, deliveries); BENCH_WORKERS sets gunicorn's worker count (default 2).
The run creates and drops its own PostgreSQL database (`bench`) and empties its own Redis
database (9). A JSON summary goes to bench/results/; --render writes the tables into
docs/benchmarks.md from the latest summary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python bench/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

ALL = ("status", "reads", "creation", "webhooks", "timers", "startup")
RESULTS = common.ROOT / "bench" / "results"


def machine() -> dict[str, Any]:
    import psycopg
    import redis

    with psycopg.connect(common.PG_ADMIN_URL.replace("postgres://", "postgresql://")) as conn:
        pg = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = redis.Redis.from_url(common.REDIS_URL).info("server")["redis_version"]
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    mem_kb = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "")
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "postgresql": pg,
        "redis": redis_version,
        "kernel": platform.release(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="the short development run (also BENCH_QUICK=1)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ALL)}")
    parser.add_argument("--render", action="store_true", help="only render docs/benchmarks.md from the last JSON")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows under make

    from bench import report

    if args.render:
        report.render(json.loads((RESULTS / "latest.json").read_text()))
        return 0

    scale = common.Scale.from_env(args.quick)
    chosen = [name for name in (args.only.split(",") if args.only else ALL) if name]
    unknown = set(chosen) - set(ALL)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    summary: dict[str, Any] = {
        "command": "make bench" + (" BENCH_QUICK=1" if scale.quick else ""),
        "mode": "quick" if scale.quick else "full",
        "scale": scale.__dict__,
        "machine": machine(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "benchmarks": {},
    }
    print(f"Benchmarks ({summary['mode']} mode): {', '.join(chosen)}")
    print(f"Machine: {summary['machine']}")

    common.apply_env()
    common.database_create()
    common.redis_flush()
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)
        http = [name for name in chosen if name in ("status", "reads", "creation")]
        if http:
            from bench import fixtures, http_benches

            fx = fixtures.build()
            from django.db import connections

            connections.close_all()
            with common.Gunicorn(scale.workers) as server, common.BareGunicorn() as bare:
                if "status" in http:
                    summary["benchmarks"]["status"] = http_benches.status_polling(server, fx, scale, bare)
                if "reads" in http:
                    summary["benchmarks"]["reads"] = http_benches.integrator_reads(server, fx, scale, bare)
                if "creation" in http:
                    summary["benchmarks"]["creation"] = http_benches.creation(server, fx, scale, bare)
        if "webhooks" in chosen:
            from bench import webhooks

            summary["benchmarks"]["webhooks"] = webhooks.run(scale)
        if "timers" in chosen:
            from bench import timers

            summary["benchmarks"]["timers"] = timers.run(scale)
        if "startup" in chosen:
            from bench import startup

            summary["benchmarks"]["startup"] = startup.run(scale)
    finally:
        from django.db import connections

        connections.close_all()
        common.database_drop()
        common.redis_flush()

    summary["seconds"] = round(time.perf_counter() - started, 1)
    checks = [c for b in summary["benchmarks"].values() for c in b.get("checks", [])]
    failed = [c for c in checks if not c["passed"]]
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    text = json.dumps(summary, indent=2, default=str)
    (RESULTS / f"{stamp}-{summary['mode']}.json").write_text(text)
    (RESULTS / "latest.json").write_text(text)
    print(f"\n{len(checks) - len(failed)}/{len(checks)} targets met in {summary['seconds']} s")
    for c in failed:
        print(f"  FAIL {c['name']} (target {c['target']}): {c['value']} vs {c['baseline_value']}")
    print(f"Summary: {RESULTS / 'latest.json'}  (render the docs table: python -m bench.run --render)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
