"""The scopes a person's app may ask for (API.md "People's apps"), in words people read."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from oauth2_provider.scopes import SettingsScopes

OPENID = "openid"
PROFILE = "profile"
INBOX = "inbox"
SESSIONS = "sessions"
DETAILS = "details"

# What the approval page and "Connected apps" on /me/ say each scope lets the app do.
SCOPE_LABELS = {
    OPENID: _("Know that it is you: a sign-in identifier for this app only"),
    PROFILE: _("See your name"),
    INBOX: _("See the requests waiting for you, accept or decline them, and end a sharing"),
    SESSIONS: _("Answer data-transfer sessions (the QR codes organizations show) with your details"),
    DETAILS: _("Read your personal details"),
}
SCOPE_NAMES = tuple(SCOPE_LABELS)


def scope_labels(scope: str) -> list[Any]:
    """The labels of the scopes in a space-separated `scope`, in the order of SCOPE_LABELS."""
    names = set(scope.split())
    return [label for name, label in SCOPE_LABELS.items() if name in names]


class ApplicationScopes(SettingsScopes):
    """An app may ask only for the scopes registered for it; without a `scope` parameter it
    gets `openid` alone."""

    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        every = super().get_available_scopes(application, request, *args, **kwargs)
        if application is None:  # the discovery document: every scope the portal knows
            return every
        allowed = set(application.allowed_scopes.split())
        return [name for name in every if name in allowed]
