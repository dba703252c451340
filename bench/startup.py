"""Benchmark 6: `make run` to its first page on a warm machine, and the virtualenv's size.

`make run` runs in a temporary copy of the repository (code, templates, static files, Makefile,
Procfile.dev; mtimes kept, .venv linked), so its SQLite database and var/ are fresh and the
working tree's own are untouched. Timed from `make run` to the first 200 of /accounts/login/
(migrate, collectstatic, seed_demo, then honcho starting web, worker and beat). Twice: the
first run warms the OS caches, the second is the figure.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Scale, free_port, wait_http

COPY = ("apps", "config", "templates", "static", "locale", "manage.py", "Makefile", "Procfile.dev")
COPY_FILES = ("requirements.txt", "requirements-dev.txt", "pyproject.toml")


def _tree(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in COPY:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore, copy_function=shutil.copy2)
        elif source.exists():
            shutil.copy2(source, target / name)
    for name in COPY_FILES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, target / name)
    (target / ".venv").symlink_to(ROOT / ".venv")


def _once() -> float:
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        target = Path(tmp)
        _tree(target)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "CELERY_"))}
        for name in ("SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEYS", "API_RATE_LIMIT", "PYTHONPATH"):
            env.pop(name, None)
        env.pop("SESSION_STATUS_RATE_LIMIT", None)
        env.pop("PUBLIC_BASE_URL", None)
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603
            ["make", "run", f"PORT={port}"],  # noqa: S607 - make from PATH, as a reader runs it
            cwd=target,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/accounts/login/", timeout=180, process=process)
            return time.perf_counter() - started
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _du(path: Path) -> int:
    out = subprocess.run(["du", "-sk", "--dereference-args", str(path)], capture_output=True, text=True)  # noqa: S603, S607
    return int(out.stdout.split()[0]) * 1024


def run(scale: Scale) -> dict[str, Any]:
    print("\n[6] Startup and size: `make run` to the first page; installed .venv size")
    first = _once()
    warm = first if scale.quick else _once()
    venv = _du(ROOT / ".venv")
    figures = {
        "make_run_first_page_seconds_cold_copy": round(first, 2),
        "make_run_first_page_seconds_warm": round(warm, 2),
        "venv_size_mb": round(venv / 1024 / 1024, 1),
    }
    print(f"  make run → first page: {warm:.2f} s warm ({first:.2f} s first); .venv {figures['venv_size_mb']} MB")
    return {"figures": figures, "checks": []}
