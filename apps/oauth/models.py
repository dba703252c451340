"""People's apps: the registered applications, and each person's connection to one of them.

django-oauth-toolkit keeps grants, access, refresh and ID tokens in its own tables; the
Application model is swapped for this one (OAUTH2_PROVIDER_APPLICATION_MODEL), which adds the
scopes an app may ask for and a switch to suspend it.
"""

from __future__ import annotations

import ipaddress
import re
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition
from oauth2_provider.models import AbstractApplication

from apps.audit.fsm import FSMModelMixin
from apps.oauth.scopes import OPENID, SCOPE_NAMES, scope_labels

# RFC 8252 §7.1: a private-use scheme is a reverse domain name the app's publisher controls.
_PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+")


def _loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: str) -> str | None:
    """Why `uri` cannot be a people's app's redirect URI, or None when it can: https, a
    loopback IP over http (RFC 8252 §7.3), or a private-use scheme (RFC 8252 §7.1)."""
    if "#" in uri:
        return gettext("A redirect URI has no fragment (#).")
    parts = urlsplit(uri)
    if parts.username or parts.password:
        return gettext("A redirect URI carries no user name or password.")
    if parts.scheme == "https":
        return None if parts.hostname else gettext("An https redirect URI needs a host.")
    if parts.scheme == "http":
        if _loopback(parts.hostname):
            return None
        return gettext("Plain http is only for a loopback address (http://127.0.0.1 or http://[::1]); use https.")
    if _PRIVATE_USE_SCHEME.fullmatch(parts.scheme):
        return None
    return gettext(
        "Use https, a loopback address over http, or the app's own scheme named after a domain it "
        "owns (e.g. com.example.app:/callback)."
    )


class Application(AbstractApplication):
    """A people's app registered by platform staff: a public client (no secret: it runs on the
    person's phone) using the authorization code flow with PKCE S256, exact redirect URIs, and
    ID tokens signed RS256. Every app is the platform's decision, not an organization's."""

    # What API.md fixes for every people's app (clean() holds them there whatever a form sent).
    client_type = models.CharField(
        max_length=32,
        choices=AbstractApplication.CLIENT_TYPES,
        default=AbstractApplication.CLIENT_PUBLIC,
        verbose_name=_("client type"),
    )
    authorization_grant_type = models.CharField(
        max_length=44,
        choices=AbstractApplication.GRANT_TYPES,
        default=AbstractApplication.GRANT_AUTHORIZATION_CODE,
        verbose_name=_("authorization grant type"),
    )
    algorithm = models.CharField(
        max_length=5,
        choices=AbstractApplication.ALGORITHM_TYPES,
        default=AbstractApplication.RS256_ALGORITHM,
        blank=True,
        verbose_name=_("algorithm"),
    )
    allowed_scopes = models.CharField(
        max_length=200,
        default=OPENID,
        help_text=_("The scopes the app may ask for, space-separated; openid is always included."),
        verbose_name=_("allowed scopes"),
    )
    is_active = models.BooleanField(
        default=True,
        help_text=_("Off: the app can no longer sign anyone in, and its tokens stop working."),
        verbose_name=_("is active"),
    )

    class Meta(AbstractApplication.Meta):
        swappable = "OAUTH2_PROVIDER_APPLICATION_MODEL"
        verbose_name = _("people's app")
        verbose_name_plural = _("people's apps")

    def clean(self) -> None:
        self.client_type = self.CLIENT_PUBLIC
        self.authorization_grant_type = self.GRANT_AUTHORIZATION_CODE
        self.algorithm = self.RS256_ALGORITHM
        self.skip_authorization = False
        self.client_secret = ""
        self.hash_client_secret = False
        self.allowed_origins = ""
        self.post_logout_redirect_uris = ""
        errors: dict[str, list[str]] = {}
        scopes = self.allowed_scopes.split()
        unknown = [scope for scope in scopes if scope not in SCOPE_NAMES]
        if unknown:
            errors["allowed_scopes"] = [gettext("Unknown scope: %(scopes)s.") % {"scopes": ", ".join(unknown)}]
        self.allowed_scopes = " ".join(name for name in SCOPE_NAMES if name in scopes or name == OPENID)
        uris = self.redirect_uris.split()
        if not uris:
            errors["redirect_uris"] = [gettext("Register at least one redirect URI.")]
        problems = [problem for uri in uris if (problem := redirect_uri_problem(uri))]
        if problems:
            errors["redirect_uris"] = sorted(set(problems))
        if not self.name.strip():
            errors["name"] = [gettext("People see this name when they approve the app.")]
        if errors:
            raise ValidationError(errors)
        super().clean()

    def get_allowed_schemes(self) -> list[str]:
        # Per app: https, plus http only where a loopback URI is registered, plus the app's own
        # private-use schemes. The global list stays ["https"] (RFC 9700's deploy check).
        schemes = {"https"}
        for uri in self.redirect_uris.split():
            scheme = urlsplit(uri).scheme
            if scheme == "http" and _loopback(urlsplit(uri).hostname):
                schemes.add("http")
            elif _PRIVATE_USE_SCHEME.fullmatch(scheme):
                schemes.add(scheme)
        return sorted(schemes)

    def is_usable(self, request: Any) -> bool:
        return self.is_active


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    REVOKED = "revoked", _("Revoked")


class Connection(FSMModelMixin, models.Model):
    """A person's approval of an app: made on the approval page (their own act), listed under
    "Connected apps" on /me/, and ended by revoking it there, by a password change or by the
    account's deletion, which revokes every token the app holds for them.

    Audited like every state change, but no organization's event (a person's own business)."""

    EVENT_TYPE = "app_connection.status_changed"
    STATE_FIELD = "status"
    PUBLISH_EVENTS = False

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False, verbose_name=_("ID"))
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="app_connections", verbose_name=_("person")
    )
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="connections",
        verbose_name=_("application"),
    )
    # Every scope the person approved for the app while connected, space-separated.
    scope = models.TextField(blank=True, verbose_name=_("scope"))
    status = FSMField(
        default=ConnectionStatus.ACTIVE, choices=ConnectionStatus.choices, protected=True, verbose_name=_("status")
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    # The last token issued or request answered for the app (kept to the minute).
    last_used_at = models.DateTimeField(null=True, blank=True, verbose_name=_("last used at"))
    revoked_at = models.DateTimeField(null=True, blank=True, verbose_name=_("revoked at"))

    class Meta:
        verbose_name = _("connection")
        verbose_name_plural = _("connections")
        constraints = [
            models.UniqueConstraint(
                fields=["person", "application"],
                condition=Q(status="active"),
                name="one_active_connection_per_app",
            )
        ]

    def __str__(self) -> str:
        return gettext("Connection to %(app)s (%(status)s)") % {
            "app": self.application.name,
            "status": self.get_status_display(),
        }

    @property
    def scope_labels(self) -> list[Any]:
        return scope_labels(self.scope)

    def event_data(self) -> dict[str, Any]:
        # Ids and the status; the app's client id is no personal value.
        return {"id": str(self.id), "client_id": self.application.client_id, "status": self.status}

    @transition(field=status, source=ConnectionStatus.ACTIVE, target=ConnectionStatus.REVOKED)
    def revoke(self) -> None:
        self.revoked_at = timezone.now()
