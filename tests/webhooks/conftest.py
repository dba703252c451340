"""A real HTTP receiver on 127.0.0.1 in the test process, whose answers a test scripts.

Webhooks go only here (or to ::1): tests never send traffic anywhere else.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from standardwebhooks.webhooks import Webhook

from apps.organizations.models import Organization
from apps.webhooks.endpoints import endpoint_create
from apps.webhooks.models import WebhookEndpoint


@dataclass(frozen=True)
class Reply:
    """One scripted answer: a status, a body, extra headers, and how long to wait first."""

    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    trickle: float = 0.0  # seconds between the bytes of the answer, to defeat per-read timeouts

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        return cls(status, b"moved", {"Location": location})


@dataclass(frozen=True)
class Received:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    peer: tuple = ()  # the client's address and port: one per TCP connection

    @property
    def json(self) -> dict:
        import json

        return json.loads(self.body)

    def verify(self, secret: str) -> dict:
        """Standard Webhooks verification, as an integrator would do it; raises if it fails."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    """Answers each POST with the next scripted Reply, then with `default`; records every request.

    It closes the connection after each answer unless `keep_alive`, as a receiver may or may not.
    """

    def __init__(self, host: str = "127.0.0.1", *, keep_alive: bool = False) -> None:
        self.requests: list[Received] = []
        self.default = Reply()
        self._script: list[Reply] = []
        self._lock = threading.Lock()
        self._released = threading.Event()  # ends slow replies at teardown
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                reply = receiver._record(
                    Received(
                        "POST", self.path, {k.lower(): v for k, v in self.headers.items()}, body, self.client_address
                    )
                )
                if reply.delay and receiver._released.wait(reply.delay):
                    return
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                if not keep_alive:
                    self.send_header("Connection", "close")
                if not reply.trickle:
                    self.end_headers()
                    self.wfile.write(reply.body)
                    return
                self._headers_buffer.append(b"\r\n")
                answer = b"".join(self._headers_buffer) + reply.body
                self._headers_buffer = []
                for byte in answer:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    if receiver._released.wait(reply.trickle):
                        return

            def log_message(self, format: str, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a client that timed out and hung up is part of some tests

        self._server = Server((host, 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self.host = host
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _record(self, request: Received) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self._script.pop(0) if self._script else self.default

    def script(self, *replies: Reply | int) -> None:
        """Answer the next requests with these, in order (an int is a status code)."""
        with self._lock:
            self._script.extend(Reply(r) if isinstance(r, int) else r for r in replies)

    def url(self, path: str = "/hook") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def webhook_ids(self) -> list[str]:
        return [r.headers["webhook-id"] for r in self.requests]

    def connections(self) -> int:
        """How many TCP connections the requests came over."""
        return len({r.peer for r in self.requests})

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    started: list[Receiver] = []

    def make(host: str = "127.0.0.1", *, keep_alive: bool = False) -> Receiver:
        receiver = Receiver(host, keep_alive=keep_alive)
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.stop()


@pytest.fixture
def receiver(make_receiver) -> Receiver:
    return make_receiver()


@pytest.fixture
def closed_url() -> str:
    """A loopback URL nobody listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"


@pytest.fixture
def make_endpoint(db) -> Callable[..., tuple[WebhookEndpoint, str]]:
    """An endpoint registered through the service, with the secret it was given once."""

    def make(
        organization: Organization, url: str, events: list[str] | None = None, description: str = ""
    ) -> tuple[WebhookEndpoint, str]:
        return endpoint_create(
            organization=organization,
            url=url,
            events=events if events is not None else ["identity.state_changed"],
            description=description,
        )

    return make


@pytest.fixture(autouse=True)
def _fresh_connection_pools() -> Iterator[None]:
    """Each test starts without kept-alive connections to an earlier test's receivers."""
    from apps.webhooks import sender

    yield
    sender._pools.clear()
