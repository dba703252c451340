"""gunicorn's configuration for the web process (Procfile, Dockerfile and compose.yaml pass it
with --config; gunicorn also reads it by itself when started from this folder, as the
benchmarks and the reliability tests do). The command lines keep the per-deployment flags
(bind, workers, threads, timeouts, access log); this file holds what every run needs.
"""

from __future__ import annotations

import os
import sys

from gunicorn.glogging import Logger

# The console script's sys.path starts at the virtualenv's bin/, not here.
_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from apps.core.redaction import redact_handlers  # noqa: E402 - needs the path above


class RedactingLogger(Logger):
    """gunicorn's logger whose handlers (access log, error log) redact secret link tokens
    (apps.core.redaction): gunicorn writes its access log itself, outside Django's LOGGING."""

    def setup(self, cfg: object) -> None:
        super().setup(cfg)
        redact_handlers(self.error_log, self.access_log)


logger_class = RedactingLogger

# Request head limits. The portal's longest URLs (a signed identification or verification link,
# an invitation link with a `next=` around it) are under 1 KB; a browser sends about 20 headers.
limit_request_line = 4094  # bytes of "METHOD /path?query HTTP/1.1" (gunicorn's default, stated)
limit_request_fields = 64  # header fields per request (default 100)
limit_request_field_size = 8190  # bytes per header field, cookies included (the default, stated)
# The body is capped by Django (apps.api.middleware.RequestBodyLimitMiddleware): gunicorn has no
# body limit of its own, and a body the application did not read is drained only up to 64 KB
# before the connection is closed instead.
