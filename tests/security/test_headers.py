"""Security headers on pages and API answers: a strict CSP, no framing, nosniff, referrer policy.

The display page of a data-transfer session is the one page meant to be framed: it answers
`frame-ancestors` from SESSION_DISPLAY_FRAME_ANCESTORS instead of X-Frame-Options.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.http import HttpResponse
from django.test import override_settings
from django.urls import path

from apps.core.security_headers import embeddable, inline_hashes
from tests.factories import make_person


def directives(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    parsed = {}
    for part in header.split(";"):
        name, *sources = part.split()
        parsed[name] = sources
    return parsed


def assert_strict(response, *, framing: str = "'none'") -> None:
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == [framing] if framing == "'none'" else framing.split()
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in policy[directive], response["Content-Security-Policy"]
        assert "'unsafe-eval'" not in policy[directive]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/api/docs/", "/invitations/0b6f9e04-0000-4000-8000-000000000000/x/"]
)
def test_pages_carry_a_strict_policy_and_refuse_framing(client, db, path):
    response = client.get(path)
    assert response.status_code in (200, 410), response.status_code
    assert_strict(response)
    assert response["X-Frame-Options"] == "DENY"


def test_the_signed_in_persons_page_too(client, db):
    client.force_login(make_person())
    response = client.get("/me/")
    assert response.status_code == 200
    assert_strict(response)
    assert response["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/orgs/acme/external-personal-identities"),
        ("get", "/api/v1/personal-details"),
        ("get", "/api/v1/no-such-thing"),
        ("get", "/api/schema/"),
        ("get", "/healthz"),
    ],
)
def test_api_answers_carry_the_headers_too(client, db, method, path):
    response = getattr(client, method)(path)
    assert_strict(response)  # frame-ancestors 'none' forbids framing in every current browser
    # The JSON error answer for an unknown API path is made after X-Frame-Options is set.
    assert response.get("X-Frame-Options", "DENY") == "DENY"


def test_the_api_docs_inline_blocks_are_allowed_by_hash_only(client, db):
    """Swagger UI's template has inline blocks; the policy names exactly their hashes."""
    response = client.get("/api/docs/")
    html = response.content.decode()
    blocks = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert blocks, "the docs page has no inline script any more: drop CSP_INLINE_HASH_PATHS"
    policy = directives(response)
    for block in blocks:
        digest = base64.b64encode(hashlib.sha256(block.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy["script-src"]
    assert len([s for s in policy["script-src"] if s.startswith("'sha256-")]) == len(set(blocks))


def test_other_pages_get_no_hashes(client, db):
    response = client.get("/accounts/login/")
    assert "sha256-" not in response["Content-Security-Policy"]


def test_inline_hashes_skip_external_scripts():
    html = '<script src="/a.js"></script><script>x()</script><style>p{}</style><script type="module">y()</script>'
    hashes = inline_hashes(html)
    assert len(hashes["script-src"]) == 2
    assert len(hashes["style-src"]) == 1


# --- The embeddable display page -----------------------------------------------------------


def _framed_view(request):
    return HttpResponse("<p>framed</p>")


urlpatterns = [
    path("framed", embeddable(_framed_view)),
    path("plain", _framed_view),
]


@pytest.mark.urls(__name__)
def test_embeddable_answers_frame_ancestors_from_the_allow_list(client):
    with override_settings(SESSION_DISPLAY_FRAME_ANCESTORS=["'self'", "https://shop.example.com"]):
        response = client.get("/framed")
    assert "X-Frame-Options" not in response
    assert directives(response)["frame-ancestors"] == ["'self'", "https://shop.example.com"]
    assert directives(response)["script-src"] == ["'self'"]  # the rest of the policy stays


@pytest.mark.urls(__name__)
def test_embeddable_defaults_to_self(client):
    assert settings.SESSION_DISPLAY_FRAME_ANCESTORS == ["'self'"]
    response = client.get("/framed")
    assert directives(response)["frame-ancestors"] == ["'self'"]
    plain = client.get("/plain")
    assert plain["X-Frame-Options"] == "DENY"
    assert directives(plain)["frame-ancestors"] == ["'none'"]


def test_the_display_page_uses_the_allow_list(client, api):
    created = api.post("/api/v1/orgs/acme/sessions", {"scopes": ["first_name"]}, format="json").json()
    url = f"/session/{created['session_id']}/display?token={created['session_token']}"
    with override_settings(SESSION_DISPLAY_FRAME_ANCESTORS=["https://shop.example.com"]):
        response = client.get(url)
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert directives(response)["frame-ancestors"] == ["https://shop.example.com"]
    # Other session pages are not embeddable.
    qr = client.get(f"/session/{created['session_id']}/qr.svg?token={created['session_token']}")
    assert qr["X-Frame-Options"] == "DENY"


# --- Templates stay within the policy --------------------------------------------------------

TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Templates that are not web pages (email bodies) or that break the policy knowingly.
EXEMPT = {
    "identities/email/invitation.html": "an email body, not served to browsers",
    # Its inline style and onfocus are dropped by the browser; the key stays selectable by hand.
    "admin/organizations/apikey_created.html": "inline style= and onfocus= (blocked by the CSP, harmless)",
    # drf-spectacular's own page, copied only to say lang="en": its inline <style> and <script> are
    # the library's, allowed on /api/docs/ alone by their hashes (CSP_INLINE_HASH_PATHS).
    "drf_spectacular/swagger_ui.html": "drf-spectacular's inline blocks, allowed by hash on /api/docs/",
}
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.IGNORECASE)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
STYLE = re.compile(r"<style|\sstyle\s*=", re.IGNORECASE)


def test_templates_have_no_inline_script_style_or_handlers():
    found = []
    for template in sorted(TEMPLATES.rglob("*.html")):
        name = template.relative_to(TEMPLATES).as_posix()
        if name in EXEMPT or "/email/" in name:
            continue
        text = template.read_text()
        for pattern, what in (
            (INLINE_SCRIPT, "inline <script>"),
            (EVENT_HANDLER, "on…= handler"),
            (STYLE, "inline style"),
        ):
            if pattern.search(text):
                found.append(f"{name}: {what}")
    assert not found, "\n".join(found)
