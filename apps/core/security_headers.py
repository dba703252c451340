"""Response security headers beyond Django's own: the CSP middleware and the embeddable-page decorator.

The policy itself is `CONTENT_SECURITY_POLICY` in the settings (django-csp): no inline script,
no framing. Two departures, both narrow:

- `embeddable` lets a view be framed by the origins in `SESSION_DISPLAY_FRAME_ANCESTORS`
  (CSP `frame-ancestors`, which supersedes X-Frame-Options in browsers) instead of nobody.
- Paths in `CSP_INLINE_HASH_PATHS` (Swagger UI, a third-party template with inline blocks and
  no user input) get their inline `<script>`/`<style>` blocks allowed by SHA-256 hash, never by
  'unsafe-inline': a block that was not in the page the server rendered still cannot run.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from csp.decorators import csp_replace
from csp.middleware import CSPMiddleware as BaseCSPMiddleware
from csp.middleware import PolicyParts
from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.clickjacking import xframe_options_exempt

# An inline block: a <script> without a src attribute, or a <style>, and its exact text.
INLINE_BLOCK = re.compile(
    r"<(?P<tag>script|style)(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</(?P=tag)\s*>", re.IGNORECASE | re.DOTALL
)
SRC_ATTRIBUTE = re.compile(r"\ssrc\s*=", re.IGNORECASE)


def frame_ancestors() -> list[str]:
    """The CSP source list of who may frame an embeddable page ('self' unless configured)."""
    return list(settings.SESSION_DISPLAY_FRAME_ANCESTORS) or ["'self'"]


def embeddable(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """Let other sites frame this view: `frame-ancestors` from SESSION_DISPLAY_FRAME_ANCESTORS, no X-Frame-Options.

    Read at request time, so the allow-list follows the settings (and override_settings in tests).
    """

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        framed = csp_replace({"frame-ancestors": frame_ancestors()})(xframe_options_exempt(view))
        return framed(request, *args, **kwargs)

    return wrapped


def inline_hashes(html: str) -> dict[str, list[str]]:
    """'sha256-…' sources for every inline script and style block of `html`, by directive."""
    found: dict[str, list[str]] = {"script-src": [], "style-src": []}
    for match in INLINE_BLOCK.finditer(html):
        tag = match["tag"].lower()
        if tag == "script" and SRC_ATTRIBUTE.search(match["attrs"] or ""):
            continue
        digest = base64.b64encode(hashlib.sha256(match["body"].encode()).digest()).decode()
        source = f"'sha256-{digest}'"
        directive = "script-src" if tag == "script" else "style-src"
        if source not in found[directive]:
            found[directive].append(source)
    return {k: v for k, v in found.items() if v}


class CSPMiddleware(BaseCSPMiddleware):
    """django-csp's middleware, plus hash-allowed inline blocks on CSP_INLINE_HASH_PATHS."""

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only or not isinstance(response, HttpResponse) or not self._hashes_allowed(request, response):
            return parts
        hashes = inline_hashes(response.content.decode(response.charset or "utf-8", errors="replace"))
        if hashes:
            update = dict(parts.update or {})
            for directive, sources in hashes.items():
                current = update.get(directive) or []
                update[directive] = [*([current] if isinstance(current, str) else current), *sources]
            parts.update = update
        return parts

    @staticmethod
    def _hashes_allowed(request: HttpRequest, response: HttpResponseBase) -> bool:
        paths = tuple(getattr(settings, "CSP_INLINE_HASH_PATHS", ()))
        return (
            bool(paths)
            and request.path_info.startswith(paths)
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
        )
