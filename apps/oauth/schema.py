"""OpenAPI: the OAuth 2.0 security scheme of people's apps (authorization code with PKCE), and
the requirement each operation that takes their access token names (with the scope it needs).

The integrator API names its security per operation (SPECTACULAR_SETTINGS has no authentication
whitelist), so the operations for people's apps name theirs with `auth=app_auth(scope)`, and a
postprocessing hook adds the schemes they refer to."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from apps.oauth.scopes import SCOPE_LABELS

SCHEME = "PersonAppOAuth"
# The person's browser session on the session endpoints (Django's session cookie).
COOKIE_SCHEME = "cookieAuth"


def app_auth(scope: str) -> list[Any]:
    """An operation's security: the access token of a person's app holding `scope`.

    One security requirement object ({scheme: [scope]}). extend_schema annotates `auth` as a list
    of scheme names, but its AutoSchema.get_auth takes requirement objects too: list[Any] fits both.
    """
    return [{SCHEME: [scope]}]


def security_schemes() -> dict[str, Any]:
    base = settings.PUBLIC_BASE_URL
    return {
        SCHEME: {
            "type": "oauth2",
            "description": (
                "The access token of a person's app registered in the portal (API.md \"People's apps\"): "
                "authorization code flow, public client, PKCE with S256 required, exact redirect URIs "
                "(a loopback IP redirect may use any port, RFC 8252). Access tokens live 10 minutes; "
                "refresh tokens rotate at every use, and a refresh token used twice revokes its whole "
                "family. OpenID Connect discovery: `/.well-known/openid-configuration`. API keys are "
                "refused where this scheme applies."
            ),
            "flows": {
                "authorizationCode": {
                    "authorizationUrl": f"{base}/oauth/authorize/",
                    "tokenUrl": f"{base}/oauth/token/",
                    "refreshUrl": f"{base}/oauth/token/",
                    "scopes": {name: str(label) for name, label in SCOPE_LABELS.items()},
                }
            },
        },
        COOKIE_SCHEME: {
            "type": "apiKey",
            "in": "cookie",
            "name": settings.SESSION_COOKIE_NAME,
            "description": "The person's browser session on the portal (writes also need the CSRF token).",
        },
    }


def add_security_schemes(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: the schemes of people's apps and browser sessions."""
    schemes = result.setdefault("components", {}).setdefault("securitySchemes", {})
    for name, scheme in security_schemes().items():
        schemes.setdefault(name, scheme)
    return result
