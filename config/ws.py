"""The ws process (Procfile `ws`): daphne's command line, with its access log redacted and
request bodies capped as they arrive.

    python -m config.ws --bind 0.0.0.0 --port 8001 --proxy-headers --access-log - config.asgi:application

daphne writes its access log straight to a stream, not through logging, so the filter of
apps.core.redaction cannot be attached to it; its entries go through redact_secrets instead
(WebSocket entries carry the path without the query, but HTTP entries carry the whole URL).

Twisted, under daphne, stores a request's whole body (in a temporary file past 100 KB) before the
application is called, so the cap of apps.core.body_limits is also applied here, as the body
comes in: a body announced larger than the cap is answered 413 at its headers, a chunked one
once it grows past the cap, and the connection is closed without reading the rest.
"""

from __future__ import annotations

from typing import Any

from daphne import cli, http_protocol
from daphne.access import AccessLogGenerator

from apps.core.body_limits import body_limit
from apps.core.redaction import redact_secrets

TOO_LARGE = (
    b"HTTP/1.1 413 Request Entity Too Large\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"Content-Length: 26\r\nConnection: close\r\n\r\nThe request is too large.\n"
)


class RedactingAccessLogGenerator(AccessLogGenerator):
    def write_entry(self, host: Any, date: Any, request: str, *args: Any, **kwargs: Any) -> None:
        super().write_entry(host, date, redact_secrets(request), *args, **kwargs)


class BoundedWebRequest(http_protocol.WebRequest):
    """daphne's request, refusing a body past the cap before Twisted has stored it."""

    _limit = 0
    _received = 0
    _refused = False

    def gotLength(self, length: int | None) -> None:
        # The request line is parsed, the request not yet made: its path is still the channel's.
        path = getattr(self.channel, "_path", b"/").split(b"?", 1)[0].decode("latin-1")
        self._limit = body_limit(path)
        if length is not None and length > self._limit:
            self._refuse()
            return
        super().gotLength(length)

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._received += len(data)
        if self._received > self._limit:
            self._refuse()
            return
        super().handleContentChunk(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if not self._refused:
            super().requestReceived(command, path, version)

    def _refuse(self) -> None:
        self._refused = True
        self.channel.transport.write(TOO_LARGE)
        self.channel.transport.loseConnection()  # stops reading: the rest of the body is never read


def main() -> None:
    # daphne's command line and HTTP factory build these from module-level names.
    cli.AccessLogGenerator = RedactingAccessLogGenerator
    http_protocol.WebRequest = BoundedWebRequest
    cli.CommandLineInterface.entrypoint()


if __name__ == "__main__":
    main()
