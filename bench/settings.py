"""Benchmark settings: production, unchanged, except what a loopback benchmark cannot have.

- No HTTPS redirect: the load generator talks plain HTTP on 127.0.0.1 with no TLS proxy in front.
- The bench URLconf, which adds the baseline views (bench/baseline_views.py) to config.urls.
- Webhook and notification destinations may be the plain-http receiver on 127.0.0.1.
Rate limits are raised through their environment variables by bench/run.py (the throttles
still run and still count in the cache on every request; only the ceiling moves).
"""

from __future__ import annotations

from config.settings.production import *  # noqa: F403

SECURE_SSL_REDIRECT = False
ROOT_URLCONF = "bench.urls"
WEBHOOKS_REQUIRE_HTTPS = False
WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True
