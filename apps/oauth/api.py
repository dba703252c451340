"""The base of every /api/v1/me/ view: a person's app acting for its person."""

from __future__ import annotations

from typing import Any

from rest_framework.views import APIView

from apps.api.pagination import CursorPagination
from apps.audit.services import Actor
from apps.oauth.authentication import AppTokenRateThrottle, PersonAppAuthentication, RequiresAppToken


class PersonAppAPIView(APIView):
    """Authenticated by the app's access token only (API keys and browser sessions are refused:
    401), with the view's `required_app_scope` (403), rate limited per app and person (429).
    The person is request.user and every change is theirs (Actor.user), as on their pages."""

    authentication_classes = [PersonAppAuthentication]
    permission_classes = [RequiresAppToken]
    throttle_classes = [AppTokenRateThrottle]
    # Read by drf-spectacular: list responses are documented as pages.
    pagination_class = CursorPagination
    required_app_scope = ""
    extra_error_codes: tuple[int, ...] = (401, 403, 429)
    error_descriptions = {
        method: {
            401: "Missing, invalid, expired or revoked access token (an API key is no access token).",
            403: "The access token lacks the scope this operation needs (`insufficient_scope`).",
            404: "No such object among the person's own.",
            429: "The app's requests for this person are rate limited (APP_TOKEN_RATE_LIMIT); see Retry-After.",
        }
        for method in ("GET", "POST")
    }

    @property
    def person(self) -> Any:
        return self.request.user

    @property
    def actor(self) -> Actor:
        return Actor.user(self.request.user)
