"""The portal's web servers as real processes on 127.0.0.1, for tests of what they do at their
edges (access logs, request limits): gunicorn as the Procfile's `web` runs it (with
gunicorn.conf.py), and the `ws` process (python -m config.ws, daphne).

They run the local settings on a throwaway SQLite file; the requests these tests make need no
table (unknown routes, pages refused before any lookup), so nothing is migrated."""

from __future__ import annotations

import contextlib
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings

PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PYTEST_"))}
    for name in ("DATABASE_URL", "REDIS_URL", "DEBUG", "LOG_LEVEL"):
        env.pop(name, None)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DEBUG="false",
        DATABASE_URL=f"sqlite:///{tmp_path / 'edge.sqlite3'}",
        CELERY_BROKER_URL="memory://",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


class Server:
    def __init__(self, command: list[str], env: dict[str, str], log: Path, port: int) -> None:
        self.port, self.log = port, log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and arguments
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{command[2]} exited with {self.proc.returncode}:\n{self.output()}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                return
            time.sleep(0.2)
        raise AssertionError(f"{command[2]} did not listen on {port}:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while text not in self.output() and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.output()

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=wait)


@contextlib.contextmanager
def gunicorn(tmp_path: Path, **env: str) -> Iterator[Server]:
    """The Procfile's web command, reduced to one worker: --config gunicorn.conf.py, access log on stdout."""
    port = free_port()
    command = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--config", "gunicorn.conf.py"]
    command += ["--bind", f"127.0.0.1:{port}", "--workers", "1", "--threads", "2", "--access-logfile", "-"]
    server = Server(command, server_env(tmp_path, **env), tmp_path / "gunicorn.log", port)
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def ws_process(tmp_path: Path, **env: str) -> Iterator[Server]:
    """The Procfile's ws command: python -m config.ws (daphne) with its access log on stdout."""
    port = free_port()
    command = [PYTHON, "-m", "config.ws", "--bind", "127.0.0.1", "--port", str(port)]
    command += ["--proxy-headers", "--access-log", "-", "config.asgi:application"]
    server = Server(command, server_env(tmp_path, **env), tmp_path / "ws.log", port)
    try:
        yield server
    finally:
        server.stop()


def raw_request(port: int, head: bytes, body_chunks: Iterable[bytes] = (), timeout: float = 10) -> tuple[bytes, int]:
    """Send `head`, then body chunks until the server answers (or stops reading); returns the
    server's answer and how many body bytes were sent before it came."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(head)
        for chunk in body_chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break  # the server has answered (or closed) before reading the rest
            sock.settimeout(2)
            try:
                sock.sendall(chunk)
            except (TimeoutError, BrokenPipeError, ConnectionResetError):
                break  # the server no longer reads
            sent += len(chunk)
        sock.settimeout(timeout)
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n\r\n" not in answer:
                data = sock.recv(65536)
                if not data:
                    break
                answer += data
    return answer, sent
