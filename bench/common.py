"""What every benchmark shares: the environment, the database, gunicorn and side-by-side rounds."""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import loadgen

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DB_NAME = os.environ.get("BENCH_DB_NAME", "bench")
PG_ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{DB_NAME}")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9")
CONNECTIONS = 16


@dataclass
class Scale:
    """The knob: quick mode for development, full mode for the record."""

    quick: bool
    factor: float = 1.0
    rounds: int = 3
    seconds: float = 5.0
    warmup: float = 1.0
    workers: int = 2
    activities: int = 2_000_000
    deliveries: int = 100_000
    webhook_time_cap: float = 200.0

    @classmethod
    def from_env(cls, quick: bool) -> Scale:
        quick = quick or os.environ.get("BENCH_QUICK", "") not in ("", "0")
        factor = float(os.environ.get("BENCH_SCALE", "1"))
        if quick:
            scale = cls(True, factor, rounds=2, seconds=3.0, warmup=0.5, activities=100_000, deliveries=3_000)
            scale.webhook_time_cap = 60.0
        else:
            scale = cls(False, factor)
        scale.activities = max(1000, int(scale.activities * factor))
        scale.deliveries = max(100, int(scale.deliveries * factor))
        scale.workers = int(os.environ.get("BENCH_WORKERS", scale.workers))
        return scale


_FIELD_KEY: list[str] = []


def _field_key() -> str:
    """One encryption key per run, shared by the run, gunicorn and the workers."""
    from cryptography.fernet import Fernet

    if not _FIELD_KEY:
        _FIELD_KEY.append(os.environ.get("BENCH_FIELD_ENCRYPTION_KEYS") or Fernet.generate_key().decode())
    return _FIELD_KEY[0]


_SIGNING_KEY: list[str] = []


def _signing_key() -> str:
    """People's apps' ID-token key, one per run (production settings require one).

    Made here rather than with config.settings.base's helper: importing the settings before
    bench_env() is applied would freeze them with this shell's environment."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    if os.environ.get("BENCH_OIDC_RSA_PRIVATE_KEY"):
        return os.environ["BENCH_OIDC_RSA_PRIVATE_KEY"]
    if not _SIGNING_KEY:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _SIGNING_KEY.append(pem.decode())
    return _SIGNING_KEY[0]


def bench_env() -> dict[str, str]:
    """Production settings (through bench.settings) on the benchmark's own database and Redis db."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=DATABASE_URL,
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,
        SECRET_KEY=env.get("BENCH_SECRET_KEY", "bench-" + "x" * 50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        FIELD_ENCRYPTION_KEYS=_field_key(),
        OIDC_RSA_PRIVATE_KEY=_signing_key(),
        # The throttles still run (and count in Redis) on every request; only the ceilings move,
        # so that a load generator on one address is not answered 429.
        API_RATE_LIMIT="100000000/min",
        SESSION_STATUS_RATE_LIMIT="1000000/s",
        LOG_LEVEL="WARNING",
        PUBLIC_BASE_URL="http://127.0.0.1:8000",
        PYTHONPATH=str(ROOT),
        # Production refuses the console backends: messages the benchmarks cause are files.
        EMAIL_BACKEND=env.get("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"),
        EMAIL_FILE_PATH=env.get("EMAIL_FILE_PATH", str(ROOT / "var" / "bench" / "mail")),
        SMS_BACKEND=env.get("SMS_BACKEND", "file"),
        SMS_FILE_PATH=env.get("SMS_FILE_PATH", str(ROOT / "var" / "bench" / "sms")),
    )
    env.pop("DEBUG", None)
    return env


def apply_env() -> dict[str, str]:
    env = bench_env()
    os.environ.update(env)
    # _signing_key imported config.settings.base under the caller's environment (its module-level
    # settings, e.g. EMAIL_BACKEND, read then): settings are read again under the bench's own.
    for name in [name for name in sys.modules if name == "config.settings" or name.startswith("config.settings.")]:
        del sys.modules[name]
    return env


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(statement)


def database_create() -> None:
    database_drop()
    _admin_sql(f'CREATE DATABASE "{DB_NAME}"')


def database_drop() -> None:
    _admin_sql(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def redis_flush() -> None:
    """Empty the benchmark's own Redis database (db 9 by default); no other."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, timeout: float = 60.0, process: subprocess.Popen | None = None) -> float:
    """Seconds until `url` answers 2xx/3xx."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback only
                if response.status < 400:
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class _Server:
    """A gunicorn in its own process group, stopped with its workers."""

    process: subprocess.Popen | None

    def __exit__(self, *exc: object) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)


@dataclass
class Gunicorn(_Server):
    workers: int
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        # As the Procfile's web process (gthread, keep-alive), minus the access log and the
        # --max-requests recycling, which would measure worker restarts instead of requests.
        command = [
            PYTHON, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--threads", "4", "--timeout", "30",
            "--keep-alive", "30", "--log-level", "warning",
        ]  # fmt: skip
        self.process = subprocess.Popen(command, cwd=ROOT, env=bench_env(), start_new_session=True)  # noqa: S603
        wait_http(f"http://127.0.0.1:{self.port}/healthz", process=self.process)
        return self


@dataclass
class BareGunicorn(_Server):
    """A bare Django (bench/bare: no apps, no middleware) under gunicorn's 2 sync workers, on the
    benchmark's PostgreSQL: the baseline users compare a Django service with."""

    workers: int = 2
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    def __enter__(self) -> BareGunicorn:
        command = [
            PYTHON, "-m", "gunicorn", "bench.bare.wsgi:application",
            "--bind", f"127.0.0.1:{self.port}",
            "--workers", str(self.workers), "--worker-class", "sync", "--timeout", "30",
            "--log-level", "warning",
        ]  # fmt: skip
        env = {**bench_env(), "DJANGO_SETTINGS_MODULE": "bench.bare.settings"}
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)  # noqa: S603
        wait_http(f"http://127.0.0.1:{self.port}/healthz", process=self.process)
        return self


Variant = list[loadgen.Request] | tuple[Gunicorn | BareGunicorn, list[loadgen.Request]]


def side_by_side(
    server: Gunicorn, variants: dict[str, Variant], scale: Scale, *, log: Callable[[str], None] = print
) -> dict[str, dict[str, Any]]:
    """Interleaved rounds (A, B, C, A, B, C, ...) of every variant; medians per variant.

    A variant is a list of requests to `server`, or (another server, requests): the bare-Django
    baselines run in their own gunicorn, in the same rounds."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    for round_no in range(scale.rounds):
        for name, variant in variants.items():
            target, requests = variant if isinstance(variant, tuple) else (server, variant)
            result = loadgen.run(
                "127.0.0.1", target.port, requests, connections=CONNECTIONS, seconds=scale.seconds, warmup=scale.warmup
            ).as_dict()
            runs[name].append(result)
            log(
                f"    round {round_no + 1} {name:<24} {result['rps']:>8.1f} req/s  p50 {result['p50_ms']:.1f} ms"
                f"  p99 {result['p99_ms']:.1f} ms  errors {result['errors']}"
            )
    summary = {}
    for name, results in runs.items():
        summary[name] = {
            "rps": round(statistics.median(r["rps"] for r in results), 1),
            "p50_ms": round(statistics.median(r["p50_ms"] for r in results), 2),
            "p99_ms": round(statistics.median(r["p99_ms"] for r in results), 2),
            "errors": sum(r["errors"] for r in results),
            "requests": sum(r["requests"] for r in results),
            "statuses": _merge(r["statuses"] for r in results),
            "rounds": [r["rps"] for r in results],
        }
    return summary


def _merge(dicts: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for d in dicts:
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


def round_ratios(figures: dict[str, dict[str, Any]], name: str, baseline: str) -> list[float]:
    """The ratio of `name` to `baseline` in each interleaved round."""
    pairs = zip(figures[name]["rounds"], figures[baseline]["rounds"], strict=True)
    return [round(a / b, 3) if b else 0.0 for a, b in pairs]


def check(name: str, value: float, baseline_name: str, baseline: float, target: float, *, higher: bool = True) -> dict:
    """One target: value vs baseline (ratio), PASS when the ratio meets `target`."""
    ratio = value / baseline if baseline else 0.0
    passed = ratio >= target if higher else ratio <= target
    return {
        "name": name,
        "value": round(value, 1),
        "baseline": baseline_name,
        "baseline_value": round(baseline, 1),
        "ratio": round(ratio, 3),
        "target": f"{'≥' if higher else '≤'} {target:g}x {baseline_name}",
        "passed": passed,
    }


def print_check(c: dict[str, Any], log: Callable[[str], None] = print) -> None:
    log(
        f"  {'PASS' if c['passed'] else 'FAIL'}  {c['name']}: {c['value']} vs {c['baseline']} {c['baseline_value']}"
        f"  ratio {c['ratio']:.2f} (target {c['target']})"
    )
