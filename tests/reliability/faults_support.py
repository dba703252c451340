"""Real processes for the fault and soak runs: throwaway Redis and PostgreSQL servers, gunicorn,
Celery worker and beat, a webhook receiver and a stalling SMTP server.

Nothing here touches the shared PostgreSQL or Redis servers: a fault test starts its own
servers on free ports in a temp dir (and stops and restarts those); the soak run uses its own
database name and Redis db number on the shared servers.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
SECRET_KEY = "reliability-secret-key-not-for-production-0123456789"
EVENT_TYPES = [
    "identity.state_changed",
    "activity.status_changed",
    "process.status_changed",
    "identification.status_changed",
    "session.status_changed",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def pg_bin(name: str) -> str | None:
    """The newest installed PostgreSQL server binary `name` (they are not on PATH on Debian)."""
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    return found[-1] if found else shutil.which(name)


def _run_as() -> str | None:
    """initdb and postgres refuse to run as root: run them as the postgres account then."""
    return "postgres" if os.geteuid() == 0 else None


def missing_servers() -> str:
    """Why throwaway Redis/PostgreSQL servers cannot be started here ("" when they can)."""
    if not shutil.which("redis-server"):
        return "needs redis-server on PATH to start a throwaway Redis"
    if not (pg_bin("initdb") and pg_bin("postgres")):
        return "needs the PostgreSQL server binaries (initdb, postgres) to start a throwaway cluster"
    if os.geteuid() == 0:
        import pwd

        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres account: initdb refuses to run as root"
    return ""


class Process:
    """One child in its own process group; output to a log file."""

    def __init__(
        self, name: str, command: list[str], *, env: dict[str, str], log_dir: Path, user: str | None = None
    ) -> None:
        self.name = name
        self.log = log_dir / f"{name}.log"
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - our own binaries and arguments
                command,
                cwd=BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                user=user,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def output(self, tail: int = 60) -> str:
        try:
            lines = self.log.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            lines = []
        return f"--- {self.log.name} (last {tail} lines) ---\n" + "\n".join(lines[-tail:])

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if not self.alive():
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}\n{self.output()}")
            time.sleep(0.1)
        raise AssertionError(f"{self.name}: no {text!r} after {timeout:.0f} s\n{self.output()}")

    def send(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        """SIGKILL the whole group, as a crash or an OOM kill would."""
        self.send(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=10)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> None:
        if self.alive():
            self.send(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=timeout)
        self.kill()


def rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants, in KiB (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo += children.get(current, [])
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def wait_until(check: Callable[[], Any], what: str, timeout: float, *procs: Process, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            result = check()
            if result:
                return result
        if time.monotonic() > deadline:
            logs = "\n".join(p.output() for p in procs)
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{logs}")
        time.sleep(interval)


# --- Throwaway servers -------------------------------------------------------------------


class RedisServer:
    def __init__(self, workdir: Path) -> None:
        self.dir = workdir / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: Process | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--daemonize", "no", "--dir", str(self.dir)]
        self.process = Process("redis", command, env=dict(os.environ), log_dir=self.dir)
        wait_until(self.ping, "redis to answer PING", 15, self.process)

    def ping(self) -> bool:
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def stop(self) -> None:
        if self.process:
            self.process.stop(signal.SIGKILL)
            self.process = None


class PostgresServer:
    """A PostgreSQL cluster of its own (initdb in a temp dir owned by the postgres account if root)."""

    def __init__(self) -> None:
        self.user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="faults-pg-"))
        self.data = self.root / "data"
        if self.user:
            shutil.chown(self.root, self.user, self.user)
        self.port = free_port()
        self.process: Process | None = None
        self._initialised = False

    def url(self, dbname: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{dbname}"

    def _as_user(self, command: list[str]) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603 - our own binaries
            command, cwd=self.root, user=self.user, capture_output=True, text=True, timeout=120, check=False
        )

    def start(self) -> None:
        if not self._initialised:
            done = self._as_user(
                [pg_bin("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
            )
            assert done.returncode == 0, f"initdb failed:\n{done.stdout}\n{done.stderr}"
            self._initialised = True
        command = [pg_bin("postgres"), "-D", str(self.data), "-p", str(self.port), "-k", str(self.root)]
        command += ["-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "full_page_writes=off"]
        self.process = Process("postgres", command, env=dict(os.environ), log_dir=self.root, user=self.user)
        wait_until(self.ready, "postgres to accept connections", 30, self.process)

    def ready(self) -> bool:
        import psycopg

        with psycopg.connect(self.url(), connect_timeout=1) as conn:
            conn.execute("SELECT 1")
        return True

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        """Fast shutdown (SIGINT): clients are disconnected, as in a restart or failover."""
        if self.process:
            self.process.stop(signal.SIGINT, timeout=30)
            self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


# --- Receivers ---------------------------------------------------------------------------


class WebhookSink:
    """An HTTP receiver on 127.0.0.1 answering every POST 200 and recording its webhook-id."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self._ids: list[str] = []
        self._lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with sink._lock:
                    sink._ids.append(self.headers.get("webhook-id", ""))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def webhook_ids(self) -> list[str]:
        with self._lock:
            return list(self._ids)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class StallingSmtpServer:
    """A minimal SMTP server on 127.0.0.1 that records complete messages.

    While `stalled` is set, a new connection gets no greeting: the client (a worker sending
    an invitation) hangs inside the send until it is killed or `release()` is called.
    """

    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.connections = 0
        self.stalled = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(16)
        self._sock.settimeout(0.2)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with self._lock:
            self.connections += 1
        with conn:
            if self.stalled.is_set():
                self._release.wait()
                return
            conn.settimeout(10)
            reader = conn.makefile("rb")
            conn.sendall(b"220 localhost ESMTP\r\n")
            try:
                while True:
                    line = reader.readline()
                    if not line:
                        return
                    verb = line[:4].upper()
                    if verb in (b"EHLO", b"HELO"):
                        conn.sendall(b"250 localhost\r\n")
                    elif verb == b"DATA":
                        conn.sendall(b"354 go ahead\r\n")
                        body = []
                        while (chunk := reader.readline()) not in (b".\r\n", b""):
                            body.append(chunk)
                        with self._lock:
                            self.messages.append(b"".join(body))
                        conn.sendall(b"250 queued\r\n")
                    elif verb == b"QUIT":
                        conn.sendall(b"221 bye\r\n")
                        return
                    else:  # MAIL, RCPT, RSET, NOOP
                        conn.sendall(b"250 ok\r\n")
            except OSError:
                return

    def release(self) -> None:
        self.stalled.clear()
        self._release.set()

    def stop(self) -> None:
        self._stop.set()
        self._release.set()
        self._sock.close()


# --- The portal's processes --------------------------------------------------------------


class Portal:
    """gunicorn, a Celery worker and beat for one database and one Redis, started on demand."""

    def __init__(self, workdir: Path, *, database_url: str, redis_url: str, **extra_env: str) -> None:
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.redis_url = redis_url
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.processes: list[Process] = []
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PYTEST_"))}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            DEBUG="false",
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            CELERY_BROKER_URL=redis_url,
            SECRET_KEY=SECRET_KEY,
            WEBHOOKS_ALLOW_PRIVATE_NETWORKS="true",  # the receiver is on 127.0.0.1
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            SMS_BACKEND="locmem",
            API_RATE_LIMIT="100000/min",
            PUBLIC_BASE_URL=self.base_url,
            PYTHONUNBUFFERED="1",
            LOG_LEVEL="WARNING",
        )
        env.update(extra_env)
        self.env = env

    def manage(self, *args: str, timeout: float = 180) -> str:
        done = subprocess.run(  # noqa: S603 - our own interpreter
            [PYTHON, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        assert done.returncode == 0, f"manage.py {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    def migrate(self) -> None:
        self.manage("migrate", "--noinput", "-v", "0")

    def bootstrap(self, receiver_url: str, slug: str = "reliability", extra_parties: int = 0) -> dict[str, Any]:
        """An organization, an API key, a webhook endpoint for every event, two ACTIVE parties
        (initiator and receptor) and `extra_parties` more ACTIVE identities ("extra")."""
        code = f"""
import json
from apps.organizations.services import api_key_create, organization_create
from apps.webhooks.endpoints import endpoint_create
from tests.activities.conftest import INITIATOR_DETAILS, RECEPTOR_DETAILS, make_party
org = organization_create(slug={slug!r}, name="Reliability")
_, raw = api_key_create(organization=org, name="reliability")
endpoint, secret = endpoint_create(organization=org, url={receiver_url!r}, events={EVENT_TYPES!r})
initiator = make_party(org, "bank@example.com", **INITIATOR_DETAILS)
receptor = make_party(org, "eva@example.com", **RECEPTOR_DETAILS)
extra = [str(make_party(org, f"party{{i}}@example.com").pk) for i in range({extra_parties})]
print("BOOTSTRAP" + json.dumps({{"org": org.slug, "key": raw, "endpoint": str(endpoint.pk), "secret": secret,
    "initiator": str(initiator.pk), "receptor": str(receptor.pk), "extra": extra}}))
"""
        out = self.manage("shell", "-c", code)
        line = next(line for line in out.splitlines() if line.startswith("BOOTSTRAP"))
        return json.loads(line[len("BOOTSTRAP") :])

    def _start(self, name: str, command: list[str]) -> Process:
        process = Process(name, command, env=self.env, log_dir=self.dir)
        self.processes.append(process)
        return process

    def start_web(self, workers: int = 2, threads: int = 4, wait: bool = True) -> Process:
        command = [PYTHON, "-m", "gunicorn", "config.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
        command += ["--workers", str(workers), "--threads", str(threads), "--timeout", "30", "--graceful-timeout", "5"]
        web = self._start("web", command)
        if wait:
            self.wait_web(web)
        return web

    def wait_web(self, web: Process) -> None:
        import requests

        wait_until(lambda: requests.get(f"{self.base_url}/healthz", timeout=2).status_code == 200, "gunicorn", 30, web)

    def start_worker(self, concurrency: int = 2, name: str = "worker", wait: bool = True) -> Process:
        command = [PYTHON, "-m", "celery", "-A", "config", "worker", "--loglevel=INFO", f"--concurrency={concurrency}"]
        command += ["-n", f"{name}-{self.port}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat"]
        worker = self._start(name, command)
        if wait:
            worker.wait_for_log(" ready.", timeout=30)
        return worker

    def start_beat(self, wait: bool = True) -> Process:
        command = [PYTHON, "-m", "celery", "-A", "config", "beat", "--loglevel=INFO"]
        command += [f"--schedule={self.dir / 'beat-schedule'}"]
        beat = self._start("beat", command)
        if wait:
            beat.wait_for_log("beat: Starting", timeout=30)
        return beat

    def start_all(self, *, workers: int = 2, threads: int = 4, concurrency: int = 2) -> tuple[Process, ...]:
        """gunicorn, a worker and beat, started together (they take seconds each to import)."""
        web = self.start_web(workers, threads, wait=False)
        worker = self.start_worker(concurrency, wait=False)
        beat = self.start_beat(wait=False)
        self.wait_web(web)
        worker.wait_for_log(" ready.", timeout=30)
        beat.wait_for_log("beat: Starting", timeout=30)
        return web, worker, beat

    def logs(self) -> str:
        return "\n".join(p.output() for p in self.processes)

    def stop(self) -> None:
        for process in self.processes:  # all at once: each has seconds of warm shutdown
            process.send(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            process.kill()
        self.processes.clear()


def delivery_counts(database_url: str, org_slug: str) -> dict[str, int]:
    """For one organization: transitions, the published ones, events, and deliveries by status."""
    import psycopg

    with psycopg.connect(database_url, connect_timeout=5) as conn:
        org_id = conn.execute("SELECT id FROM organizations_organization WHERE slug = %s", [org_slug]).fetchone()[0]
        counts = {
            "transitions": conn.execute("SELECT count(*) FROM audit_transition WHERE organization_id = %s", [org_id]),
            "published": conn.execute(
                "SELECT count(*) FROM audit_transition WHERE organization_id = %s AND published_at IS NOT NULL",
                [org_id],
            ),
            "events": conn.execute("SELECT count(*) FROM webhooks_event WHERE organization_id = %s", [org_id]),
            "deliveries": conn.execute("SELECT count(*) FROM webhooks_delivery WHERE organization_id = %s", [org_id]),
            "succeeded": conn.execute(
                "SELECT count(*) FROM webhooks_delivery WHERE organization_id = %s AND status = 'succeeded'", [org_id]
            ),
        }
        return {name: cursor.fetchone()[0] for name, cursor in counts.items()}
