from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """The top layer: the person's composed pages under /me/, account deletion over every app,
    the back office's cross-feature pages and `seed_demo` (docs/architecture.md)."""

    name = "apps.portal"
    label = "portal"
    verbose_name = _("Portal")
