"""`Authorization: Bearer <access token>` of a person's app, for /api/v1/me/ and the session
endpoints (API.md "People's apps"): the authentication, the scope check and the rate limit.

A token authenticates its person (request.user) and carries the scopes they approved
(request.auth is django-oauth-toolkit's AccessToken). API keys are no access tokens: they are
refused here like any unknown token. Only the Authorization header is read: never a token in
the query string or the body (RFC 9700 §4.3.2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from oauth2_provider.models import AbstractAccessToken
from rest_framework import authentication, exceptions, permissions

from apps.api.throttles import WindowRateThrottle
from apps.oauth.selectors import access_token_find
from apps.oauth.services import connection_touch
from apps.organizations.selectors import api_key_parse

if TYPE_CHECKING:
    from rest_framework.request import Request
    from rest_framework.views import APIView


class PersonAppAuthentication(authentication.BaseAuthentication):
    """The access token of a person's app: valid (known, not expired, not revoked), of an
    active app, for an active account. 401 otherwise; no header: None (other classes may try)."""

    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, AbstractAccessToken] | None:
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise _invalid("Use 'Authorization: Bearer <access token>'.")
        try:
            raw = header[1].decode()
        except UnicodeDecodeError:
            raise _invalid("The access token is not valid.") from None
        if api_key_parse(raw) is not None:
            raise _invalid("API keys are not accepted here: send the access token of the person's app.")
        token = access_token_find(raw)
        if token is None or token.user is None or token.application is None:
            raise _invalid("The access token is not valid or has been revoked.")
        if token.is_expired():
            raise _invalid("The access token has expired: refresh it.")
        if not token.application.is_usable(request) or not token.user.is_active:
            raise _invalid("The access token is not valid or has been revoked.")
        connection_touch(person_id=token.user_id, application_id=token.application_id)
        return token.user, token

    def authenticate_header(self, request: Request) -> str:
        # RFC 6750 §3: the 401's WWW-Authenticate challenge.
        return f'{self.keyword} realm="api"'


def _invalid(message: str) -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(message, code="invalid_token")


def app_token(request: Request) -> AbstractAccessToken | None:
    """The app's access token of this request, or None (a browser session)."""
    return request.auth if isinstance(request.auth, AbstractAccessToken) else None


class InsufficientScope(exceptions.PermissionDenied):
    """403 `insufficient_scope`, with the scope the token lacks in WWW-Authenticate."""

    def __init__(self, scope: str) -> None:
        super().__init__(
            f"The access token lacks the '{scope}' scope: ask the person to approve it.", code="insufficient_scope"
        )
        self.auth_header = f'Bearer realm="api", error="insufficient_scope", scope="{scope}"'


class HasAppScope(permissions.BasePermission):
    """The app's token carries the view's `required_app_scope` (403 `insufficient_scope`
    otherwise). A request without a token (a browser session, where a view allows one) passes:
    the person is acting themselves."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.user is None or not getattr(request.user, "is_authenticated", False):
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <access token>'.")
        token = app_token(request)
        scope = getattr(view, "required_app_scope", "")
        if token is not None and scope and scope not in token.scope.split():
            raise InsufficientScope(scope)
        return True


class RequiresAppToken(HasAppScope):
    """Only a person's app's access token (the /api/v1/me/ endpoints): no browser session."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if app_token(request) is None:
            raise exceptions.NotAuthenticated("Send 'Authorization: Bearer <access token>'.")
        return super().has_permission(request, view)


class AppTokenRateThrottle(WindowRateThrottle):
    """APP_TOKEN_RATE_LIMIT requests (default 120/min) per app and person, whichever of the
    app's tokens is presented: refreshing for a new token does not reset the count. 429 with
    Retry-After past it. Browser sessions are not counted here."""

    scope = "app_token"

    def get_rate(self) -> str:
        return settings.APP_TOKEN_RATE_LIMIT

    def get_cache_key(self, request: Request, view: APIView) -> str | None:
        token = app_token(request)
        if token is None:
            return None
        return self.cache_format % {"scope": self.scope, "ident": f"{token.user_id}:{token.application_id}"}
