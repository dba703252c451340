"""The production Procfile's processes, started as written, against PostgreSQL and Redis.

`release` migrates; `web` (gunicorn) and `ws` (daphne) serve real requests on free ports;
`worker` and `beat` start and the worker sends an invitation the web process queued. A
WebSocket on daphne gets the session's status, and a change made through gunicorn reaches it
through the Redis channel layer: the two processes share nothing else.

Needs REDIS_URL and PostgreSQL (DATABASE_URL=postgres://…), as in CI; skipped otherwise.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from django.conf import settings

from tests.factories import OrganizationFactory, make_api_key
from tests.integration.conftest import (
    REDIS_URL,
    _database_url,
    _forget_queue,
    _wait_for_other_connections_to_close,
    skip_reason,
)

PROCFILE = Path(settings.BASE_DIR) / "Procfile"
READY_TIMEOUT = 40.0
# The load balancer terminates TLS and says so; the production settings redirect plain http.
HTTPS = {"X-Forwarded-Proto": "https"}


def procfile() -> dict[str, str]:
    entries = {}
    for line in PROCFILE.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Process:
    """One Procfile entry run as honcho would (through the shell), in its own process group."""

    def __init__(self, name: str, command: str, env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(  # noqa: S603 - the project's own Procfile
                ["/bin/sh", "-c", command],
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self, tail: int = 60) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return f"--- {self.name} (last {tail} lines) ---\n" + "\n".join(lines[-tail:])

    def wait_for(self, check: Callable[[], bool], what: str, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.proc.returncode}\n{self.output()}")
            with contextlib.suppress(requests.RequestException, OSError):
                if check():
                    return
            time.sleep(0.2)
        raise AssertionError(f"{self.name}: no {what} after {timeout:.0f} s\n{self.output()}")

    def stop(self) -> None:
        for sig, wait in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            if self.proc.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=wait)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # anything the shell left behind


class WebSocket:
    """A minimal RFC 6455 client: the handshake and reading the server's (unmasked) text frames."""

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:{port}\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(4096)
            if not chunk:
                break
            self.buffer += chunk
        head, _, self.buffer = self.buffer.partition(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1]) if head else 0

    def _read(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def receive(self) -> tuple[int, bytes]:
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._read(8))[0]
        return first & 0x0F, self._read(length)

    def receive_json(self) -> dict:
        opcode, payload = self.receive()
        assert opcode == 1, (opcode, payload)  # a text frame
        return json.loads(payload)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def stack(transactional_db, tmp_path) -> Iterator[Callable[[str], Process]]:
    """Start Procfile entries by name with the production settings; stop them all afterwards."""
    reason = skip_reason()
    if reason:
        pytest.skip(f"the Procfile's processes need PostgreSQL and Redis: {reason}")
    queue = f"procfile-{uuid.uuid4().hex[:12]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_", "PYTEST_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        DATABASE_URL=_database_url(),
        REDIS_URL=REDIS_URL,
        CELERY_BROKER_URL=REDIS_URL,
        CELERY_TASK_DEFAULT_QUEUE=queue,
        SECRET_KEY=settings.SECRET_KEY,
        FIELD_ENCRYPTION_KEYS=",".join(settings.FIELD_ENCRYPTION_KEYS),
        FIELD_HMAC_KEY=settings.FIELD_HMAC_KEY,
        OIDC_RSA_PRIVATE_KEY=settings.OIDC_RSA_PRIVATE_KEY,
        ALLOWED_HOSTS="127.0.0.1",
        BIND_HOST="127.0.0.1",
        WEB_CONCURRENCY="1",
        WEB_THREADS="4",
        CELERY_CONCURRENCY="1",
        CELERY_BEAT_SCHEDULE=str(tmp_path / "celerybeat-schedule"),
        STATIC_ROOT=str(tmp_path / "static"),
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path / "mail"),
        SMS_BACKEND="file",
        SMS_FILE_PATH=str(tmp_path / "sms"),
        PUBLIC_BASE_URL="https://portal.example.com",
        PYTHONUNBUFFERED="1",
    )
    commands = procfile()
    started: list[Process] = []

    def start(name: str, command: str = "", **extra: str) -> Process:
        process = Process(name, command or commands[name], {**env, **extra}, tmp_path / f"{name}.log")
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
    _forget_queue(queue)
    _wait_for_other_connections_to_close()


def test_the_procfile_names_every_production_process():
    entries = procfile()
    assert set(entries) == {"release", "web", "ws", "worker", "beat"}
    assert "gunicorn config.wsgi:application --config gunicorn.conf.py" in entries["web"]
    # daphne through config/ws.py: its access log redacted, its request bodies capped.
    assert "python -m config.ws" in entries["ws"] and "config.asgi:application" in entries["ws"]
    assert "celery -A config worker" in entries["worker"]
    assert "celery -A config beat" in entries["beat"]
    assert "migrate --noinput" in entries["release"]
    for command in entries.values():
        shlex.split(command)  # each line is a valid shell command
        assert "config.settings.production" in command


def test_procfile_processes_serve_real_requests(stack, tmp_path):
    release = stack("release")
    assert release.proc.wait(timeout=120) == 0, release.output()
    # As the image build does: hashed static files for whitenoise (the production storage).
    collect = stack("collectstatic", command="python manage.py collectstatic --noinput --verbosity 0")
    assert collect.proc.wait(timeout=120) == 0, collect.output()

    web_port, ws_port = free_port(), free_port()
    web = stack("web", PORT=str(web_port))
    ws = stack("ws", PORT=str(ws_port))
    worker = stack("worker")
    beat = stack("beat")
    web_url, ws_url = f"http://127.0.0.1:{web_port}", f"http://127.0.0.1:{ws_port}"

    # Both servers answer /healthz over plain http (exempt from the https redirect).
    for process, base in ((web, web_url), (ws, ws_url)):
        process.wait_for(lambda base=base: requests.get(f"{base}/healthz", timeout=5).status_code == 200, "healthz")
        health = requests.get(f"{base}/healthz", timeout=5).json()
        assert health["database"] == {"ok": True, "detail": "postgresql"}, health
        assert health["broker"] == {"ok": True, "detail": "redis"}, health
    worker.wait_for(lambda: " ready." in worker.log.read_text(errors="replace"), "worker ready")
    beat.wait_for(lambda: "beat: Starting" in beat.log.read_text(errors="replace"), "beat start")

    # Plain http elsewhere is redirected to https.
    plain = requests.get(f"{web_url}/api/v1/personal-details", timeout=5, allow_redirects=False)
    assert plain.status_code == 301
    assert plain.headers["Location"].startswith("https://")

    # A page, rendered with the hashed static files, which whitenoise serves.
    page = requests.get(f"{web_url}/accounts/login/", headers=HTTPS, timeout=10)
    assert page.status_code == 200, page.text[:500]
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "csrftoken=" in page.headers["Set-Cookie"] and "Secure" in page.headers["Set-Cookie"]
    stylesheet = re.search(r'href="(/static/css/portal\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet, page.text[:1000]
    css = requests.get(f"{web_url}{stylesheet[1]}", headers=HTTPS, timeout=10)
    assert css.status_code == 200
    assert "immutable" in css.headers["Cache-Control"]

    # The API with a real key: create, then read back.
    org = OrganizationFactory(slug="procfile", name="Procfile Org")
    key = make_api_key(org)
    auth = {**HTTPS, "Authorization": f"Bearer {key}"}
    created = requests.post(
        f"{web_url}/api/v1/orgs/procfile/external-personal-identities",
        json={"emailAddress": "eva@example.com", "firstName": "Eva", "lastName": "Lind", "managed": True},
        headers=auth,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    assert created.headers["Strict-Transport-Security"].startswith("max-age=")
    read = requests.get(
        f"{web_url}/api/v1/orgs/procfile/external-personal-identities/{created.json()['id']}", headers=auth, timeout=10
    )
    assert read.status_code == 200, read.text
    assert read.json()["emailAddress"] == "eva@example.com"
    assert read.json()["state"] == "INVITED"

    # The worker sent the invitation the web process queued on Redis.
    mail = tmp_path / "mail"
    worker.wait_for(
        lambda: mail.exists() and any("eva@example.com" in m.read_text() for m in mail.iterdir()), "invitation email"
    )

    # A WebSocket on daphne: the initial status, then a change made through gunicorn.
    session = requests.post(
        f"{web_url}/api/v1/orgs/procfile/sessions", json={"scopes": ["first_name"]}, headers=auth, timeout=10
    )
    assert session.status_code == 201, session.text
    session_id, token = session.json()["session_id"], session.json()["session_token"]

    refused = WebSocket(ws_port, f"/ws/session/{session_id}?token=wrong")
    assert refused.status != 101
    refused.close()

    socket_ = WebSocket(ws_port, f"/ws/session/{session_id}?token={quote(token)}")
    try:
        assert socket_.status == 101
        assert socket_.receive_json() == {"status": "initialized"}
        renewed = requests.post(
            f"{web_url}/api/v1/session/{session_id}/renew", headers={**HTTPS, "X-Session-Token": token}, timeout=10
        )
        assert renewed.status_code == 201, renewed.text
        assert socket_.receive_json() == {"status": "expired", "replaced_by": renewed.json()["session_id"]}
    finally:
        socket_.close()

    # The display page with its token, on both servers: neither access log keeps the token.
    new_token = renewed.json()["session_token"]
    display = f"/session/{renewed.json()['session_id']}/display?token={quote(new_token)}"
    assert requests.get(f"{web_url}{display}", headers=HTTPS, timeout=10).status_code == 200
    requests.get(f"{ws_url}{display}", timeout=10, allow_redirects=False)  # plain http: a redirect
    web.wait_for(lambda: "/display?token=[redacted]" in web.log.read_text(errors="replace"), "access log line")
    ws.wait_for(lambda: "/display?token=[redacted]" in ws.log.read_text(errors="replace"), "access log line")
    for process in (web, ws):
        written = process.log.read_text(errors="replace")
        for secret in (token, new_token, quote(token), quote(new_token)):
            assert secret not in written, process.output()

    for process in (web, ws, worker, beat):
        assert process.proc.poll() is None, process.output()


# --- Containers ---------------------------------------------------------------------------
# Docker is not usable on every machine that runs the suite, so the container files are
# checked as files: their structure, and that they run what the Procfile runs.

COMPOSE = Path(settings.BASE_DIR) / "compose.yaml"
DOCKERFILE = Path(settings.BASE_DIR) / "Dockerfile"
APP_SERVICES = {"web", "ws", "worker", "beat"}


def compose() -> dict:
    import yaml

    return yaml.safe_load(COMPOSE.read_text())


def _command(service: dict) -> str:
    command = service["command"]
    return " ".join(command) if isinstance(command, list) else command


def test_compose_runs_the_procfile_processes_with_health_checks():
    services = compose()["services"]
    assert set(services) == {"postgres", "redis", "migrate", *APP_SERVICES}
    entries = procfile()
    programs = {
        "web": "gunicorn config.wsgi:application --config gunicorn.conf.py",
        "ws": "config.asgi:application",
        "worker": "celery -A config worker",
        "beat": "celery -A config beat",
        "migrate": "manage.py migrate --noinput",
    }
    for name, program in programs.items():
        assert program in _command(services[name]), name
        assert program in entries["release" if name == "migrate" else name], name
    for name in ("postgres", "redis", *APP_SERVICES):
        check = services[name]["healthcheck"]
        assert check["test"] and not check.get("disable"), name
        if check["test"][0] == "CMD" and check["test"][1] == "python":
            compile(check["test"][3], f"{name} healthcheck", "exec")  # a valid one-liner
    for name in APP_SERVICES:
        assert services[name]["depends_on"] == {
            "postgres": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
            "migrate": {"condition": "service_completed_successfully"},
        }, name
        assert services[name]["image"] == services["migrate"]["image"]
        env = services[name]["environment"]
        assert env["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
        for required in (
            "SECRET_KEY",
            "FIELD_ENCRYPTION_KEYS",
            "OIDC_RSA_PRIVATE_KEY",
            "ALLOWED_HOSTS",
            "EMAIL_URL",
            "SMS_BACKEND",
        ):
            assert env[required].startswith(f"${{{required}:?"), required  # compose refuses to start without it
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["beat"]["deploy"]["replicas"] == 1
    assert "/healthz" in services["web"]["healthcheck"]["test"][3]
    assert "8001/healthz" in services["ws"]["healthcheck"]["test"][3]


def test_the_dockerfile_builds_a_non_root_image_with_static_files_and_a_health_check():
    lines = [line.strip() for line in DOCKERFILE.read_text().splitlines()]
    assert next(line for line in lines if line.startswith("FROM")) == "FROM python:3.11-slim"
    assert "RUN pip install -r requirements.txt" in lines
    assert any("collectstatic --noinput" in line for line in lines)
    assert "USER app" in lines
    assert any(line.startswith("HEALTHCHECK") for line in lines)
    text = DOCKERFILE.read_text()
    health = text.split("CMD python -c ", 1)[1].splitlines()[0].strip().strip('"')
    compile(health, "Dockerfile healthcheck", "exec")
    assert "/healthz" in health
    assert "gunicorn config.wsgi:application --config gunicorn.conf.py" in text.split("\nCMD ", 1)[1]
    ignored = [
        line.strip()
        for line in (Path(settings.BASE_DIR) / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for needed in ("apps", "config", "templates", "static", "manage.py", "requirements.txt", "gunicorn.conf.py"):
        assert needed not in ignored
    for secret in (".env", ".git", ".venv", "var", "db.sqlite3"):
        assert secret in ignored
