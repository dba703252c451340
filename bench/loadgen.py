"""A small HTTP/1.1 load generator: asyncio, raw keep-alive sockets, N concurrent connections.

Each connection sends its requests one after the other (no pipelining), cycling through the
request list it is given; a response is read by Content-Length (or chunked). Reports
requests per second, p50/p99 latency and the errors (non-2xx answers and socket failures).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self, host: str) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Result:
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
        }


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length, chunked, close = None, False, False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
        elif name == "connection" and value.strip().lower() == "close":
            close = True
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    elif length:
        await reader.readexactly(length)
    return -status if close else status


async def _connection(
    host: str, port: int, payloads: list[bytes], offset: int, stop_at: float, warm_until: float, out: Result
) -> None:
    reader = writer = None
    i = offset
    while time.perf_counter() < stop_at:
        started = time.perf_counter()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            payload = payloads[i % len(payloads)]
            i += 1
            started = time.perf_counter()
            writer.write(payload)
            status = await _read_response(reader)  # type: ignore[arg-type]
            ended = time.perf_counter()
            if status < 0:  # the server closes the connection after this answer
                status = -status
                writer.close()
                writer = None
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            if started >= warm_until:
                out.errors += 1
                out.statuses[0] = out.statuses.get(0, 0) + 1
            if writer is not None:
                writer.close()
            writer = None
            await asyncio.sleep(0.01)
            continue
        if started < warm_until:
            continue
        out.requests += 1
        out.latencies.append(ended - started)
        out.statuses[status] = out.statuses.get(status, 0) + 1
        if not 200 <= status < 300:
            out.errors += 1
    if writer is not None:
        writer.close()


async def _run(
    host: str, port: int, requests: list[Request], connections: int, seconds: float, warmup: float
) -> Result:
    payloads = [r.encode(f"{host}:{port}") for r in requests]
    out = Result(0, 0, 0.0, [], {})
    begin = time.perf_counter()
    warm_until = begin + warmup
    stop_at = warm_until + seconds
    step = max(1, len(payloads) // connections)
    await asyncio.gather(
        *(_connection(host, port, payloads, n * step, stop_at, warm_until, out) for n in range(connections))
    )
    out.seconds = time.perf_counter() - warm_until
    return out


def run(
    host: str, port: int, requests: list[Request], *, connections: int = 16, seconds: float = 5.0, warmup: float = 1.0
) -> Result:
    """Drive `requests` (cycled) over `connections` keep-alive connections for `seconds` after `warmup`."""
    return asyncio.run(_run(host, port, requests, connections, seconds, warmup))


def median_of(results: list[dict[str, Any]], key: str) -> float:
    return statistics.median(r[key] for r in results)
