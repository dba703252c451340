from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OAuthConfig(AppConfig):
    """People's apps: the portal as their OAuth 2.0 authorization server and OpenID provider."""

    name = "apps.oauth"
    label = "oauth"
    verbose_name = _("People's apps")

    def ready(self) -> None:
        # The signal receivers (a password change revokes the person's tokens) register
        # themselves on import.
        from apps.oauth import receivers  # noqa: F401
